/**
 * Where released secrets come from: a directory laid out as the KBS resource path,
 * `<dir>/<repository>/<type>/<tag>` (a Kubernetes Secret mounted at `<dir>/<repository>/<type>/` fits:
 * its keys become tags, and its `..data` bookkeeping entries are skipped like every dot-file), and
 * Kubernetes Secret manifests (`*.yaml`/`*.yml` in `<dir>`), where `<namespace>/<name>/<key>` names each
 * data key (namespace `default` when unset).
 *
 * Release policies: `<dir>/release-policy.json` for everything, overridden by `.release-policy.json` in a
 * `<repository>/<type>/` folder, or by the annotation `confcom.dev/release-policy` on a Secret. A
 * resource with no policy is never released. Files are read on every request so a rotated Secret is
 * served at once; their contents never reach a log or an error message.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from '../../core/yaml.js';
import { InputError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/fs.js';
import { KbsRequestError } from './errors.js';
import { loadReleasePolicy, parseReleasePolicy, type ReleasePolicy } from './release-policy.js';

export const RELEASE_POLICY_FILE = 'release-policy.json';
export const TYPE_POLICY_FILE = '.release-policy.json';
export const POLICY_ANNOTATION = 'confcom.dev/release-policy';

export interface ResourceId {
  repository: string;
  type: string;
  tag: string;
}

export interface Secret {
  id: ResourceId;
  value: Buffer;
  /** undefined: no policy applies, so the secret must not be released. */
  policy: ReleasePolicy | undefined;
  /** Where it came from (file path, or manifest path + Secret name), for logs. */
  source: string;
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,252}$/;

/** Checks a resource path's segments (no traversal, no dot-files); an empty repository is `default`. */
export function resourceId(repository: string, type: string, tag: string): ResourceId {
  const repo = repository === '' ? 'default' : repository;
  for (const [name, value] of [['repository', repo], ['type', type], ['tag', tag]] as const) {
    if (!SEGMENT.test(value)) {
      throw new KbsRequestError('resource_path_invalid', `resource ${name} '${value.slice(0, 64)}' is not a valid name`, {
        hint: 'use letters, digits, ".", "_" and "-" (not starting with ".")',
      });
    }
  }
  return { repository: repo, type, tag };
}

export function resourcePath(id: ResourceId): string {
  return `${id.repository}/${id.type}/${id.tag}`;
}

interface SecretManifest {
  namespace: string;
  name: string;
  data: Map<string, Buffer>;
  policy: ReleasePolicy | undefined;
  file: string;
}

async function exists(path: string): Promise<boolean> {
  return fsp.stat(path).then(
    () => true,
    () => false,
  );
}

function parseSecretManifests(text: string, file: string): SecretManifest[] {
  const out: SecretManifest[] = [];
  const docs = parseAllDocuments(text);
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      throw new InputError('secret_manifest_invalid', `${file}: document ${index} is not valid YAML`, { location: { file, document: index } });
    }
    const obj = doc.toJS() as Record<string, unknown> | null;
    if (!obj || obj.kind !== 'Secret') return;
    const meta = (obj.metadata ?? {}) as { name?: unknown; namespace?: unknown; annotations?: Record<string, unknown> };
    if (typeof meta.name !== 'string') throw new InputError('secret_manifest_invalid', `${file}: a Secret has no metadata.name`, { location: { file, document: index, path: 'metadata.name' } });
    const data = new Map<string, Buffer>();
    for (const [key, value] of Object.entries((obj.data ?? {}) as Record<string, unknown>)) {
      if (typeof value === 'string') data.set(key, Buffer.from(value, 'base64'));
    }
    for (const [key, value] of Object.entries((obj.stringData ?? {}) as Record<string, unknown>)) {
      if (typeof value === 'string') data.set(key, Buffer.from(value, 'utf8'));
    }
    const annotation = meta.annotations?.[POLICY_ANNOTATION];
    let policy: ReleasePolicy | undefined;
    if (typeof annotation === 'string') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(annotation);
      } catch {
        throw new InputError('release_policy_invalid', `${file}: annotation ${POLICY_ANNOTATION} of Secret ${meta.name} is not JSON`, {
          location: { file, document: index, path: `metadata.annotations.${POLICY_ANNOTATION}` },
        });
      }
      policy = parseReleasePolicy(parsed, `${file} (Secret ${meta.name})`);
    }
    out.push({ namespace: typeof meta.namespace === 'string' ? meta.namespace : 'default', name: meta.name, data, policy, file });
  });
  return out;
}

export class SecretStore {
  constructor(
    readonly dir: string,
    /** Overrides `<dir>/release-policy.json` as the default policy. */
    private defaultPolicy?: ReleasePolicy,
  ) {}

  /** Admin upload: writes the resource atomically (mode 0600) where `get` finds it. */
  async put(id: ResourceId, value: Uint8Array): Promise<void> {
    await fsp.mkdir(join(this.dir, id.repository, id.type), { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(this.dir, id.repository, id.type, id.tag), value, 0o600);
  }

  /** Admin upload: the default release policy, written to `<dir>/release-policy.json` and used at once. */
  async putPolicy(policy: ReleasePolicy, text: string): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(this.dir, RELEASE_POLICY_FILE), text, 0o600);
    this.defaultPolicy = policy;
  }

  /** Checks the layout and every policy and manifest once, so mistakes show at start-up. Returns the resource paths. */
  async validate(): Promise<string[]> {
    if (!(await fsp.stat(this.dir).then((st) => st.isDirectory(), () => false))) {
      throw new InputError('secrets_dir_missing', `secrets directory ${this.dir} does not exist`, { location: { file: this.dir }, hint: 'create it, or mount the Kubernetes Secret there' });
    }
    await this.rootPolicy();
    const paths: string[] = [];
    for (const m of await this.manifests()) for (const key of m.data.keys()) paths.push(`${m.namespace}/${m.name}/${key}`);
    for (const repo of await this.entries(this.dir, 'dir')) {
      for (const type of await this.entries(join(this.dir, repo), 'dir')) {
        await this.typePolicy(repo, type);
        for (const tag of await this.entries(join(this.dir, repo, type), 'file')) paths.push(`${repo}/${type}/${tag}`);
      }
    }
    return paths.sort();
  }

  /** The secret at a resource path, or undefined when there is none. */
  async get(id: ResourceId): Promise<Secret | undefined> {
    const file = join(this.dir, id.repository, id.type, id.tag);
    const stat = await fsp.stat(file).catch(() => undefined);
    if (stat?.isFile()) {
      const value = await fsp.readFile(file);
      const policy = (await this.typePolicy(id.repository, id.type)) ?? (await this.rootPolicy());
      return { id, value, policy, source: file };
    }
    for (const m of await this.manifests()) {
      if (m.namespace !== id.repository || m.name !== id.type) continue;
      const value = m.data.get(id.tag);
      if (value !== undefined) return { id, value, policy: m.policy ?? (await this.rootPolicy()), source: `${m.file} (Secret ${m.namespace}/${m.name})` };
    }
    return undefined;
  }

  private async rootPolicy(): Promise<ReleasePolicy | undefined> {
    if (this.defaultPolicy) return this.defaultPolicy;
    const file = join(this.dir, RELEASE_POLICY_FILE);
    return (await exists(file)) ? loadReleasePolicy(file) : undefined;
  }

  private async typePolicy(repo: string, type: string): Promise<ReleasePolicy | undefined> {
    const file = join(this.dir, repo, type, TYPE_POLICY_FILE);
    return (await exists(file)) ? loadReleasePolicy(file) : undefined;
  }

  private async manifests(): Promise<SecretManifest[]> {
    const names = (await fsp.readdir(this.dir)).filter((n) => /\.ya?ml$/.test(n) && !n.startsWith('.')).sort();
    const out: SecretManifest[] = [];
    for (const name of names) out.push(...parseSecretManifests(await fsp.readFile(join(this.dir, name), 'utf8'), join(this.dir, name)));
    return out;
  }

  private async entries(dir: string, kind: 'dir' | 'file'): Promise<string[]> {
    const out: string[] = [];
    for (const name of await fsp.readdir(dir)) {
      if (name.startsWith('.') || !SEGMENT.test(name)) continue;
      const stat = await fsp.stat(join(dir, name)).catch(() => undefined); // follows the symlinks of a Secret mount
      if (kind === 'dir' ? stat?.isDirectory() : stat?.isFile()) out.push(name);
    }
    return out.sort();
  }
}
