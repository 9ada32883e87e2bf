/**
 * `policy generate | hash | check | simulate`: policies from Kubernetes manifests (src/policy).
 * The generator, the YAML parser and the image client load inside the actions, so `--help` and
 * `policy hash` start fast.
 */
import { Command, Option } from './commander.js';
import { UsageError, InputError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fs.js';
import { log } from '../core/log.js';
import type { ManifestFile } from '../k8s/manifest.js';
import { defaultCacheDir } from '../oci/cache.js';
import type { GenerateOptions, GeneratedPolicy } from '../policy/generate.js';
import { globalOptions, printJson, printLine } from './context.js';

// Not imported from src/policy: the registry module pulls in zlib and the TOML parser.
const FORMAT_NAMES = ['aks', 'initdata'] as const;
type FormatName = (typeof FORMAT_NAMES)[number];
const LAYER_MODES = ['tardev', 'guest-pull'] as const;

const collect = (value: string, previous: string[] = []) => [...previous, value];
const generateModule = () => import('../policy/generate.js');

interface SourceFlags {
  settings?: string;
  rules?: string;
  configFile: string[];
  cache?: string;
  offline?: boolean;
  imageSource: string[];
  platform: string;
  insecureRegistry: string[];
  dockerConfig?: string;
  runtimeClass: string[];
  layers?: (typeof LAYER_MODES)[number];
  strict?: boolean;
  quiet?: boolean;
}

/** The options every command that regenerates policies shares: settings, inputs and where images come from. */
function withSourceOptions(command: Command): Command {
  return command
    .option('--settings <path>', 'a settings file (JSON Patch drop-in, or a whole settings document), or a folder of drop-ins applied in name order')
    .option('--rules <file>', 'Rego rules to use instead of the built-in rules.rego')
    .option('--config-file <file>', 'extra ConfigMaps and Secrets (repeatable)', collect, [])
    .option('--cache <dir>', 'layer pin cache directory', defaultCacheDir())
    .option('--offline', 'no network: manifests, configs and layer pins only from the cache (filled by an earlier online run) or --image-source')
    .option('--image-source <source>', "read images from 'oci-layout:DIR' or 'docker-archive:FILE' instead of registries (repeatable; a layout is matched by the image's tag, reference or digest)", collect, [])
    .option('--platform <os/arch[/variant]>', 'platform to choose from multi-arch images', 'linux/amd64')
    .option('--insecure-registry <host>', 'registry reached over plain HTTP (repeatable)', collect, [])
    .option('--docker-config <file>', 'Docker config file with registry credentials')
    .option('--runtime-class <name>', "pods of this runtime class get a policy; 'prefix*' for a family (repeatable; default: kata-cc*, kata-qemu-snp, kata-qemu-tdx, kata-qemu-coco-dev)", collect, [])
    .addOption(new Option('--layers <mode>', "how images reach the guest: 'tardev' (layers pinned by dm-verity root hash) or 'guest-pull' (pulled in the TEE; image pinned by digest and config)").choices(LAYER_MODES))
    .option('--strict', 'unknown fields in pod specs are errors, not warnings')
    .option('-q, --quiet', 'no image pull progress');
}

async function generateOptions(flags: SourceFlags, json: boolean, format?: FormatName): Promise<GenerateOptions> {
  const [{ loadSettings }, { OciImageResolver }, { loadManifests }, { readInputText }] = await Promise.all([import('../policy/settings.js'), import('../policy/images.js'), generateModule(), import('../core/fs.js')]);
  const settings = await loadSettings(flags.settings);
  if (flags.layers !== undefined) settings.image_pull = flags.layers;
  const images = new OciImageResolver({
    cacheDir: flags.cache,
    offline: flags.offline === true,
    imageSources: flags.imageSource,
    platform: flags.platform,
    insecureRegistries: flags.insecureRegistry,
    dockerConfigFile: flags.dockerConfig,
    progress: !json && flags.quiet !== true,
  });
  return {
    settings,
    images,
    format,
    configFiles: await loadManifests(flags.configFile),
    runtimeClass: flags.runtimeClass.length > 0 ? flags.runtimeClass : undefined,
    strict: flags.strict === true,
    ...(flags.rules === undefined ? {} : { rules: await readInputText(flags.rules) }),
  };
}

function reportNotices(policies: readonly GeneratedPolicy[], skipped: readonly string[]): void {
  for (const s of skipped) log.warn(`skipped (no policy): ${s}`);
  for (const p of policies) {
    for (const w of p.warnings) log.warn(`${p.file}: ${p.resource}: ${w}`);
    if (p.secretVariables > 0) {
      log.warn(`${p.file}: ${p.resource}: ${p.secretVariables} environment variable(s) take their value from a Secret; the policy allows them with any value (Secret values never enter a policy)`);
    }
  }
}

function printHashes(policies: readonly GeneratedPolicy[], toStderr: boolean): void {
  for (const p of policies) {
    const line = `${p.hostData}  ${p.resource}  ${p.file}`;
    if (toStderr) process.stderr.write(line + '\n');
    else printLine(line);
  }
}

const matchesResource = (wanted: string | undefined, kind: string, name: string) => wanted === undefined || wanted === `${kind}/${name}` || wanted === name;

interface GenerateFlags extends SourceFlags {
  filename: string[];
  recursive?: boolean;
  output?: string;
  inPlace?: boolean;
  format: FormatName;
  printHash?: boolean;
  printPolicy?: boolean;
  rawOut?: boolean;
  base64Out?: boolean;
}

/** `--print-policy`, `--raw-out`, `--base64-out`: each pod's policy instead of the manifests; one pod's text is exact (its SHA-256 is HOST_DATA). */
async function printPolicies(policies: readonly GeneratedPolicy[], flags: GenerateFlags): Promise<void> {
  const { formatModule } = await import('../policy/formats/index.js');
  for (const p of policies) {
    if (policies.length > 1 && !flags.base64Out) printLine(`# ---- ${p.resource} (${p.file})`);
    if (flags.base64Out) printLine(policies.length > 1 ? `${formatModule(p.format).encode(p.policy).value}  ${p.resource}` : formatModule(p.format).encode(p.policy).value);
    else process.stdout.write(flags.rawOut ? formatModule(p.format).document(p.policy) : p.policy);
  }
}

export function registerPolicyGenerateCommands(group: Command): void {
  withSourceOptions(
    group
      .command('generate')
      .description("generate each pod's policy and write it into the pod template's annotations")
      .argument('[file...]', "Kubernetes manifests (multi-document YAML, List objects); '-' reads standard input")
      .option('-f, --filename <path>', 'a manifest file or a folder of them, as kubectl -f (repeatable)', collect, [])
      .option('-R, --recursive', 'read the folders given with -f recursively')
      .option('-o, --output <file>', 'write the manifests to FILE (atomically) instead of stdout')
      .option('--in-place', 'rewrite each input file (atomically)')
      .addOption(new Option('--format <format>', 'aks: base64 Rego annotation; initdata: gzip+base64 TOML').choices(FORMAT_NAMES).default('aks'))
      .option('--print-hash', "print each pod's HOST_DATA (SHA-256, hex)")
      .option('--print-policy', "print each pod's Rego policy text instead of the manifests")
      .option('--raw-out', "print each pod's policy document as hashed for HOST_DATA (Rego text; initdata TOML with --format initdata)")
      .option('--base64-out', "print each pod's annotation value (base64)")
      .option('--resource <name>', 'only this pod-bearing object (kind/name or name) for the print options'),
  ).action(async (files: string[], flags: GenerateFlags & { resource?: string }, command: Command) => {
    const { json } = globalOptions(command);
    const inputs = [...files, ...flags.filename];
    if (inputs.length === 0) throw new UsageError('no manifests given', { hint: "name files or folders (-f DIR), or '-' for standard input" });
    if (flags.output && flags.inPlace) throw new UsageError('--output and --in-place cannot be used together', { hint: 'choose one place for the result' });
    if (flags.inPlace && inputs.includes('-')) throw new UsageError('--in-place cannot rewrite standard input', { hint: 'write the result with -o FILE or to stdout' });
    if (inputs.filter((f) => f === '-').length > 1) throw new UsageError("'-' (standard input) can be given once", { hint: 'name the other inputs as files' });
    const printModes = [flags.printPolicy, flags.rawOut, flags.base64Out].filter(Boolean).length;
    if (printModes > 1) throw new UsageError('--print-policy, --raw-out and --base64-out cannot be used together', { hint: 'choose one form' });
    const { expandInputs, loadManifests, generatePolicies } = await generateModule();
    const { serializeManifest } = await import('../k8s/manifest.js');
    const options = await generateOptions(flags, json, flags.format);
    const manifests = await loadManifests(await expandInputs(inputs, flags.recursive === true));
    const generated = await generatePolicies(manifests, options);
    const { skipped } = generated;
    const policies = generated.policies.filter((p) => matchesResource(flags.resource, ...(p.resource.split('/') as [string, string])));
    if (flags.resource !== undefined && policies.length === 0) {
      throw new InputError('manifest_no_pods', `no pod-bearing object '${flags.resource}'`, { hint: `objects with pods: ${generated.policies.map((p) => p.resource).join(', ') || 'none'}` });
    }
    reportNotices(policies, skipped);
    const texts = manifests.map(serializeManifest);
    if (flags.inPlace) {
      for (const [i, m] of manifests.entries()) if (m.documents.some((d) => d.changed)) await writeFileAtomic(m.file, texts[i]);
    } else if (flags.output) {
      await writeFileAtomic(flags.output, joinStreams(texts));
    }
    if (printModes > 0) {
      await printPolicies(policies, flags);
      return;
    }
    const toStdout = !flags.inPlace && !flags.output;
    if (json) {
      printJson({
        policies: policies.map((p) => ({ file: p.file, document: p.document, resource: p.resource, format: p.format, annotation: p.annotation, hostData: p.hostData, warnings: p.warnings, secretVariables: p.secretVariables })),
        skipped,
        ...(toStdout ? { manifests: joinStreams(texts) } : {}),
      });
      return;
    }
    if (toStdout) process.stdout.write(joinStreams(texts));
    if (flags.printHash) printHashes(policies, toStdout);
  });

  group
    .command('hash')
    .description("print the HOST_DATA (SHA-256, lower-case hex) of each pod's embedded policy")
    .argument('<file>', "a manifest with policy annotations ('-' reads standard input)")
    .action(async (file: string, _flags: unknown, command: Command) => {
      const { json } = globalOptions(command);
      const { loadManifests } = await import('../policy/inputs.js');
      const { embeddedPolicies } = await import('../policy/embedded.js');
      const [manifest] = await loadManifests([file]);
      const found = embeddedPolicies(manifest);
      if (found.length === 0) throw new InputError('manifest_no_policy', `${manifest.file} carries no policy annotation`, { location: { file: manifest.file }, hint: 'run `confcom policy generate` on the manifest first' });
      if (json) printJson(found.map((p) => ({ resource: p.resource, document: p.document, format: p.format, hostData: p.hostData })));
      else for (const p of found) printLine(`${p.hostData}  ${p.resource}`);
    });

  withSourceOptions(
    group
      .command('check')
      .description('exit 1 when an embedded policy no longer matches its manifest (drift), naming the pod and what changed')
      .argument('<file>', "a manifest with policy annotations ('-' reads standard input)"),
  ).action(async (file: string, flags: SourceFlags, command: Command) => {
    const { json } = globalOptions(command);
    const { loadManifests } = await generateModule();
    const { checkDrift } = await import('../policy/check.js');
    const [manifest] = await loadManifests([file]);
    const results = await checkDrift(manifest, await generateOptions(flags, json));
    if (json) printJson(results);
    else for (const r of results) printLine(`ok  ${r.resource}  ${r.hostData}`);
  });

  withSourceOptions(
    group
      .command('simulate')
      .description('print, as JSON lines in the replay format, the requests the Kata runtime would send for each pod')
      .argument('<file>', "Kubernetes manifests ('-' reads standard input)")
      .option('--resource <name>', 'only this pod-bearing object (kind/name or name; items of a List too)'),
  ).action(async (file: string, flags: SourceFlags & { resource?: string }, command: Command) => {
    const { json } = globalOptions(command);
    const { loadManifests, modelPods } = await generateModule();
    const { simulatePod } = await import('../policy/simulate.js');
    const options = await generateOptions(flags, json);
    const manifests: ManifestFile[] = await loadManifests([file]);
    const { pods } = await modelPods(manifests, options);
    const chosen = pods.filter(({ template }) => matchesResource(flags.resource, template.resource.kind, template.resource.name));
    if (chosen.length === 0) {
      throw new InputError('manifest_no_pods', flags.resource ? `no pod-bearing object '${flags.resource}' in ${file}` : `${file} has no pod this runtime class applies to`, {
        location: { file },
        hint: `objects with pods: ${pods.map((p) => `${p.template.resource.kind}/${p.template.resource.name}`).join(', ') || 'none'}`,
      });
    }
    for (const { template, model } of chosen) {
      const resource = `${template.resource.kind}/${template.resource.name}`;
      // With several pods, each line names its pod (replay ignores the extra field).
      for (const r of simulatePod(model, options.settings)) printLine(JSON.stringify({ kind: r.kind, request: r.request, expect: r.expect, ...(chosen.length > 1 ? { resource } : {}) }));
    }
  });
}

/** Several streams as one: documents of each, separated by `---`. */
function joinStreams(texts: readonly string[]): string {
  return texts.map((t, i) => (i === 0 || /^---/.test(t) ? t : `---\n${t}`)).map((t) => (t.endsWith('\n') ? t : `${t}\n`)).join('');
}
