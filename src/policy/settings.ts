/**
 * Generator settings as data: built-in defaults in `settings.json` (pause image, OCI version,
 * capabilities, environment patterns, emptyDir mode, exec and log switches, ...), changed by JSON
 * Patch drop-ins (`--settings DIR`: every `*.json` file, applied in name order). `--settings FILE` is
 * one file: a JSON Patch drop-in, or (as genpolicy's `-j settings.json`) a whole settings document.
 */
import { readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { applyJsonPatch, asPatchOperations, JsonPatchError } from '../agent/json-patch.js';
import { InputError, fileError } from '../core/errors.js';
import { readInputText } from '../core/fs.js';
import type { Json } from '../rego/value.js';

/** An agent `Storage` message (protobuf field names). */
export interface StorageSpec {
  driver: string;
  driver_options: string[];
  source: string;
  fstype: string;
  options: string[];
  mount_point: string;
  fs_group: null;
}

export type ImagePull = 'tardev' | 'guest-pull';
export const IMAGE_PULL_MODES: readonly ImagePull[] = ['tardev', 'guest-pull'];

export interface Settings {
  pause_image: string;
  oci_version: string;
  default_namespace: string;
  /** Runtime classes that get a policy: names, or prefixes written `kata-cc*`. */
  runtime_classes: string[];
  /** How the container image reaches the guest: tardev layers pinned by root hash, or pulled inside the TEE. */
  image_pull: ImagePull;
  paths: { cpath: string; root_path: string; layers: string; bundle_prefix: string; ephemeral: string; layer_src_prefix: string };
  capabilities: { default: string[]; privileged: string[] };
  env: { allow_regex: string[]; patterns: Record<string, string> };
  /** `type` as genpolicy's `emptydir_type` (default shared-fs): checked where it is used (mounts.ts). */
  empty_dir: { mode: string; source: string; mount_point: string; type?: string };
  exec: { probes_and_hooks: boolean; allow_commands: string[][] };
  logs: { allow_read: boolean };
  stdin: { allow_write: boolean; allow_close: boolean };
  sandbox: { storages: StorageSpec[]; sysctls: Record<string, string>; masked_paths: string[]; readonly_paths: string[] };
  /** Sysctls the runtime may add on its own (containerd 2.x), allowed only with these values. */
  runtime_sysctls: Record<string, string>;
  container: { sysctls: Record<string, string>; masked_paths: string[]; readonly_paths: string[] };
  namespaces: { Type: string; Path: string }[];
  annotations: { sandbox: Record<string, string>; container: Record<string, string> };
  request_defaults: {
    UpdateInterfaceRequest: { forbidden_names: string[]; forbidden_hw_addrs: string[]; allow_raw_flags: number };
    UpdateRoutesRequest: { forbidden_devices: string[]; forbidden_source_regex: string[] };
    AddARPNeighborsRequest: { forbidden_devices: string[]; forbidden_address_regex: string[]; allowed_states: number[]; allowed_flags: number };
    CopyFileRequest: { path_regex: string };
  };
}

const DEFAULTS_URL = new URL('./settings.json', import.meta.url);

export function defaultSettings(): Settings {
  return JSON.parse(readFileSync(DEFAULTS_URL, 'utf8')) as Settings;
}

/** Checks the types a drop-in could have broken, naming the first bad field. */
function validate(settings: Settings, origin: string): void {
  const problems: string[] = [];
  const str = (v: unknown, p: string) => typeof v === 'string' || problems.push(`${p} must be a string`);
  const strs = (v: unknown, p: string) => (Array.isArray(v) && v.every((x) => typeof x === 'string')) || problems.push(`${p} must be a list of strings`);
  const bool = (v: unknown, p: string) => typeof v === 'boolean' || problems.push(`${p} must be true or false`);
  str(settings.pause_image, 'pause_image');
  str(settings.oci_version, 'oci_version');
  str(settings.default_namespace, 'default_namespace');
  strs(settings.runtime_classes, 'runtime_classes');
  if (!IMAGE_PULL_MODES.includes(settings.image_pull)) problems.push(`image_pull must be one of ${IMAGE_PULL_MODES.join(', ')}`);
  strs(settings.capabilities?.default, 'capabilities.default');
  strs(settings.capabilities?.privileged, 'capabilities.privileged');
  strs(settings.env?.allow_regex, 'env.allow_regex');
  str(settings.empty_dir?.mode, 'empty_dir.mode');
  bool(settings.exec?.probes_and_hooks, 'exec.probes_and_hooks');
  if (!Array.isArray(settings.exec?.allow_commands) || !settings.exec.allow_commands.every((c) => Array.isArray(c) && c.every((x) => typeof x === 'string'))) {
    problems.push('exec.allow_commands must be a list of commands, each a list of strings');
  }
  bool(settings.logs?.allow_read, 'logs.allow_read');
  bool(settings.stdin?.allow_write, 'stdin.allow_write');
  if (problems.length > 0) {
    throw new InputError('settings_invalid', `settings after ${origin}: ${problems[0]}`, { location: { file: origin }, hint: 'fix the JSON Patch drop-in so the setting keeps its type (see src/policy/settings.json)' });
  }
}

/** The JSON Patch drop-ins of `path`: every `*.json` of a folder in name order, or the one file. */
async function dropInFiles(path: string): Promise<string[]> {
  try {
    if (!(await stat(path)).isDirectory()) return [path];
    return (await readdir(path)).filter((n) => n.endsWith('.json')).sort().map((n) => join(path, n));
  } catch (error) {
    throw fileError(path, error);
  }
}

/** Applies one drop-in (a JSON Patch, or a whole settings object that replaces the current settings). */
async function applyDropIn(settings: Settings, file: string): Promise<Settings> {
  const text = await readInputText(file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError('settings_bad_json', `${file} is not valid JSON: ${(error as Error).message}`, { location: { file }, hint: 'a settings drop-in is a JSON Patch: [{"op": "replace", "path": "/pause_image", "value": "..."}]' });
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Settings;
  const ops = asPatchOperations(parsed);
  if (!ops) {
    throw new InputError('settings_bad_patch', `${file} is not a JSON Patch (a list of {op, path, value}) nor a settings object`, { location: { file }, hint: 'write it as [{"op": "replace", "path": "/logs/allow_read", "value": true}]' });
  }
  try {
    return applyJsonPatch(settings as unknown as Json, ops) as unknown as Settings;
  } catch (error) {
    const message = error instanceof JsonPatchError ? error.message : String(error);
    throw new InputError('settings_bad_patch', `${file}: ${message}`, { location: { file }, hint: 'check the paths against src/policy/settings.json' });
  }
}

/** The defaults with the drop-ins of `path` (a folder of them, or one file) applied in name order. */
export async function loadSettings(path?: string): Promise<Settings> {
  let settings = defaultSettings();
  if (path === undefined) return settings;
  for (const file of await dropInFiles(path)) {
    settings = await applyDropIn(settings, file);
    validate(settings, file);
  }
  return settings;
}
