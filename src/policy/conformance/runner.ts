/**
 * genpolicy's own test cases as a conformance suite: for every folder with `testcases.json`, generate
 * the policy of its `pod.yaml` (+ `config_map.yaml`) offline (images from `images.json`), in guest-pull
 * mode as upstream's default settings, then decide each case in order against one enforcer (so
 * `data.pstate` carries over), with every request filled with protobuf defaults as the agent does.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { PolicyEnforcer } from '../../agent/index.js';
import { InputError, fileError } from '../../core/errors.js';
import { loadManifest, type ManifestFile } from '../../k8s/manifest.js';
import { modelPods, policyText } from '../generate.js';
import type { Settings } from '../settings.js';
import { FileImageResolver } from './images-file.js';
import { fillDefaults, findMessage, loadProtoDir, type ProtoSchema } from './proto-defaults.js';

export interface ConformanceCase {
  /** `folder#index` */
  id: string;
  folder: string;
  index: number;
  description: string;
  kind: string;
  expected: boolean;
  /** undefined when the policy could not be generated */
  allowed?: boolean;
  passed: boolean;
  /** Why a case failed: the denial message, or the generation error. */
  reason?: string;
}

export interface ConformanceResult {
  cases: ConformanceCase[];
  passed: number;
  failed: number;
  /** Cases upstream expects denied that our policy allowed (the dangerous direction). */
  expectedDenyAllowed: number;
}

/**
 * The agent hands CopyFile to the policy not as the protobuf message but as its own
 * `PolicyCopyFileRequest` (path, file type, symlink target; no data), so that one's defaults are here.
 */
const POLICY_COPY_FILE_DEFAULTS = { path: '', file_type: '', symlink_target: '', file_size: 0, file_mode: 0, dir_mode: 0, uid: 0, gid: 0, offset: 0 };

export function agentInput(schema: ProtoSchema, kind: string, request: unknown): unknown {
  if (kind === 'CopyFileRequest') {
    const given = request !== null && typeof request === 'object' ? (request as Record<string, unknown>) : {};
    return { ...POLICY_COPY_FILE_DEFAULTS, ...given };
  }
  const message = findMessage(schema, kind);
  return message === undefined ? request : fillDefaults(schema, message, request);
}

/** Upstream's default settings for the suite: guest pull, its pause image and emptyDir type, no runtime-class filter. */
export async function conformanceSettings(base: Settings, settingsFile?: string): Promise<Settings> {
  const settings: Settings = { ...base, image_pull: 'guest-pull' };
  if (settingsFile !== undefined && existsSync(settingsFile)) {
    const parsed = JSON.parse(await readFile(settingsFile, 'utf8')) as { cluster_config?: { pause_container_image?: string; guest_pull?: boolean; emptydir_type?: string } };
    const cluster = parsed.cluster_config ?? {};
    if (typeof cluster.pause_container_image === 'string') settings.pause_image = cluster.pause_container_image;
    if (typeof cluster.emptydir_type === 'string') settings.empty_dir = { ...settings.empty_dir, type: cluster.emptydir_type };
    if (cluster.guest_pull === false) settings.image_pull = 'tardev';
  }
  return settings;
}

async function caseFolders(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    const entries = await readdir(d, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && e.name === 'testcases.json')) out.push(d);
    for (const e of entries.filter((x) => x.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) await walk(join(d, e.name));
  };
  await walk(dir);
  return out.sort();
}

interface RawCase {
  description?: unknown;
  allowed?: unknown;
  kind?: unknown;
  request?: unknown;
}

async function readCases(file: string): Promise<RawCase[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    throw new InputError('conformance_cases_invalid', `${file} is not JSON`, { location: { file }, hint: 'give a list of {description, allowed, kind, request}', cause });
  }
  if (!Array.isArray(parsed)) throw new InputError('conformance_cases_invalid', `${file} is not a list`, { location: { file }, hint: 'give a list of {description, allowed, kind, request}' });
  return parsed as RawCase[];
}

export interface ConformanceOptions {
  casesDir: string;
  protosDir: string;
  imagesFile: string;
  settings: Settings;
}

async function folderPolicy(folder: string, options: ConformanceOptions, images: FileImageResolver): Promise<string> {
  const manifests: ManifestFile[] = [await loadManifest(join(folder, 'pod.yaml'))];
  const configFiles = existsSync(join(folder, 'config_map.yaml')) ? [await loadManifest(join(folder, 'config_map.yaml'))] : [];
  const { pods } = await modelPods(manifests, { settings: options.settings, images, configFiles, runtimeClass: [] });
  if (pods.length !== 1) throw new InputError('conformance_pod_count', `${folder}/pod.yaml gives ${pods.length} pods, not one`, { location: { file: join(folder, 'pod.yaml') }, hint: 'a case folder holds one pod-bearing object' });
  return policyText(pods[0].model, options.settings);
}

export async function runConformance(options: ConformanceOptions): Promise<ConformanceResult> {
  if (!existsSync(options.casesDir)) throw fileError(options.casesDir, Object.assign(new Error('not found'), { code: 'ENOENT' }));
  const schema = await loadProtoDir(options.protosDir);
  const images = await FileImageResolver.load(options.imagesFile);
  const cases: ConformanceCase[] = [];
  for (const dir of await caseFolders(options.casesDir)) {
    const folder = relative(options.casesDir, dir) || '.';
    const raw = await readCases(join(dir, 'testcases.json'));
    let enforcer: PolicyEnforcer | undefined;
    let setupError: string | undefined;
    try {
      enforcer = PolicyEnforcer.fromText(await folderPolicy(dir, options, images));
    } catch (error) {
      setupError = error instanceof Error ? error.message : String(error);
    }
    raw.forEach((c, index) => {
      const kind = typeof c.kind === 'string' ? c.kind : '';
      const expected = c.allowed === true;
      const base = { id: `${folder}#${index}`, folder, index, description: String(c.description ?? ''), kind, expected };
      if (!enforcer) {
        cases.push({ ...base, passed: false, reason: `policy not generated: ${setupError ?? ''}` });
        return;
      }
      const decision = enforcer.decide(kind, agentInput(schema, kind, c.request ?? {}));
      const passed = decision.allowed === expected;
      cases.push({ ...base, allowed: decision.allowed, passed, ...(passed ? {} : { reason: decision.message ?? (decision.allowed ? 'allowed' : 'denied') }) });
    });
  }
  const passed = cases.filter((c) => c.passed).length;
  return { cases, passed, failed: cases.length - passed, expectedDenyAllowed: cases.filter((c) => !c.expected && c.allowed === true).length };
}

/** The per-folder table, failing cases, the expected-deny-but-allowed count and `N passed, N failed` last. */
export function formatConformance(result: ConformanceResult): string {
  const folders = [...new Set(result.cases.map((c) => c.folder))];
  const width = Math.max(6, ...folders.map((f) => f.length));
  const lines = [`${'folder'.padEnd(width)}  passed  failed`];
  for (const f of folders) {
    const of = result.cases.filter((c) => c.folder === f);
    const p = of.filter((c) => c.passed).length;
    lines.push(`${f.padEnd(width)}  ${String(p).padStart(6)}  ${String(of.length - p).padStart(6)}`);
  }
  const failing = result.cases.filter((c) => !c.passed);
  if (failing.length > 0) {
    lines.push('', 'failing cases:');
    for (const c of failing) lines.push(`  ${c.id} ${c.kind} "${c.description}": expected ${c.expected ? 'allow' : 'deny'}, got ${c.allowed === undefined ? 'no policy' : c.allowed ? 'allow' : 'deny'}`);
  }
  lines.push('', `expected-deny but allowed: ${result.expectedDenyAllowed}`, `${result.passed} passed, ${result.failed} failed`);
  return `${lines.join('\n')}\n`;
}
