/** `policy generate | hash | check | simulate`: policies from Kubernetes manifests (src/policy). */
import { Command, Option } from 'commander';
import { UsageError, InputError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fs.js';
import { log } from '../core/log.js';
import { serializeManifest, type ManifestFile } from '../k8s/manifest.js';
import { defaultCacheDir } from '../oci/cache.js';
import { checkDrift, embeddedPolicies } from '../policy/check.js';
import { POLICY_FORMATS, type PolicyFormat } from '../policy/formats.js';
import { generatePolicies, loadManifests, modelPods, type GenerateOptions, type GeneratedPolicy } from '../policy/generate.js';
import { OciImageResolver } from '../policy/images.js';
import { IMAGE_PULL_MODES, loadSettings, type ImagePull } from '../policy/settings.js';
import { simulatePod } from '../policy/simulate.js';
import { globalOptions, printJson, printLine } from './context.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface SourceFlags {
  settings?: string;
  configFile: string[];
  cache: string;
  offline?: boolean;
  imageSource?: string;
  platform: string;
  insecureRegistry: string[];
  dockerConfig?: string;
  runtimeClass: string[];
  layers?: string;
  strict?: boolean;
}

/** The options every command that regenerates policies shares: settings, inputs and where images come from. */
function withSourceOptions(command: Command): Command {
  return command
    .option('--settings <dir>', 'directory of JSON Patch drop-ins applied (in name order) to the built-in settings')
    .option('--config-file <file>', 'extra ConfigMaps and Secrets (repeatable)', collect, [])
    .option('--cache <dir>', 'layer pin cache directory', defaultCacheDir())
    .option('--offline', 'no network: manifests, configs and layer pins only from the cache (filled by an earlier online run) or --image-source')
    .option('--image-source <source>', "read images from 'oci-layout:DIR' or 'docker-archive:FILE' instead of registries")
    .option('--platform <os/arch[/variant]>', 'platform to choose from multi-arch images', 'linux/amd64')
    .option('--insecure-registry <host>', 'registry reached over plain HTTP (repeatable)', collect, [])
    .option('--docker-config <file>', 'Docker config file with registry credentials')
    .option('--runtime-class <name>', "pods of this runtime class get a policy; 'prefix*' for a family (repeatable; default: kata-cc*, kata-qemu-snp, kata-qemu-tdx, kata-qemu-coco-dev)", collect, [])
    .option('--layers <mode>', "how images reach the guest: 'tardev' (layers pinned by dm-verity root hash) or 'guest-pull' (pulled in the TEE; image pinned by digest and config)")
    .option('--strict', 'unknown fields in pod specs are errors, not warnings');
}

async function generateOptions(flags: SourceFlags, format?: PolicyFormat): Promise<GenerateOptions> {
  const settings = await loadSettings(flags.settings);
  if (flags.layers !== undefined) {
    if (!IMAGE_PULL_MODES.includes(flags.layers as ImagePull)) throw new UsageError(`--layers must be one of ${IMAGE_PULL_MODES.join(', ')}, not '${flags.layers}'`, { hint: 'use --layers tardev or --layers guest-pull' });
    settings.image_pull = flags.layers as ImagePull;
  }
  const images = new OciImageResolver({
    cacheDir: flags.cache,
    offline: flags.offline === true,
    imageSource: flags.imageSource,
    platform: flags.platform,
    insecureRegistries: flags.insecureRegistry,
    dockerConfigFile: flags.dockerConfig,
  });
  return {
    settings,
    images,
    format,
    configFiles: await loadManifests(flags.configFile),
    runtimeClass: flags.runtimeClass.length > 0 ? flags.runtimeClass : undefined,
    strict: flags.strict === true,
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

export function registerPolicyGenerateCommands(group: Command): void {
  withSourceOptions(
    group
      .command('generate')
      .description('generate each pod\'s policy and write it into the pod template\'s annotations')
      .argument('<file...>', 'Kubernetes manifests (multi-document YAML, List objects)')
      .option('-o, --output <file>', 'write the manifests to FILE (atomically) instead of stdout')
      .option('--in-place', 'rewrite each input file (atomically)')
      .addOption(new Option('--format <format>', 'aks: base64 Rego annotation; initdata: gzip+base64 TOML').choices(POLICY_FORMATS).default('aks'))
      .option('--print-hash', "print each pod's HOST_DATA (SHA-256, hex)"),
  ).action(async (files: string[], flags: SourceFlags & { output?: string; inPlace?: boolean; format: PolicyFormat; printHash?: boolean }, command: Command) => {
    const { json } = globalOptions(command);
    if (flags.output && flags.inPlace) throw new UsageError('--output and --in-place cannot be used together', { hint: 'choose one place for the result' });
    const options = await generateOptions(flags, flags.format);
    const manifests = await loadManifests(files);
    const { policies, skipped } = await generatePolicies(manifests, options);
    reportNotices(policies, skipped);
    const texts = manifests.map(serializeManifest);
    if (flags.inPlace) {
      for (const [i, m] of manifests.entries()) if (m.documents.some((d) => d.changed)) await writeFileAtomic(m.file, texts[i]);
    } else if (flags.output) {
      await writeFileAtomic(flags.output, joinStreams(texts));
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
    .argument('<file>', 'a manifest with policy annotations')
    .action(async (file: string, _flags: unknown, command: Command) => {
      const { json } = globalOptions(command);
      const [manifest] = await loadManifests([file]);
      const found = embeddedPolicies(manifest);
      if (found.length === 0) throw new InputError('manifest_no_policy', `${file} carries no policy annotation`, { location: { file }, hint: 'run `confcom policy generate` on the manifest first' });
      if (json) printJson(found.map((p) => ({ resource: p.resource, document: p.document, format: p.format, hostData: p.hostData })));
      else for (const p of found) printLine(`${p.hostData}  ${p.resource}`);
    });

  withSourceOptions(
    group
      .command('check')
      .description('exit 1 when an embedded policy no longer matches its manifest (drift), naming the pod and the first difference')
      .argument('<file>', 'a manifest with policy annotations'),
  ).action(async (file: string, flags: SourceFlags, command: Command) => {
    const { json } = globalOptions(command);
    const [manifest] = await loadManifests([file]);
    const results = await checkDrift(manifest, await generateOptions(flags));
    if (json) printJson(results);
    else for (const r of results) printLine(`ok  ${r.resource}  ${r.hostData}`);
  });

  withSourceOptions(
    group
      .command('simulate')
      .description('print, as JSON lines in the replay format, the requests the Kata runtime would send for each pod')
      .argument('<file>', 'Kubernetes manifests')
      .option('--resource <name>', 'only this pod-bearing object (kind/name or name)'),
  ).action(async (file: string, flags: SourceFlags & { resource?: string }, _command: Command) => {
    const options = await generateOptions(flags);
    const manifests: ManifestFile[] = await loadManifests([file]);
    const { pods } = await modelPods(manifests, options);
    const chosen = pods.filter(({ template }) => {
      const name = `${template.resource.kind}/${template.resource.name}`;
      return flags.resource === undefined || flags.resource === name || flags.resource === template.resource.name;
    });
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
