/**
 * The examples end to end: for every manifest in examples/, generate the policy, replay the requests
 * the runtime would send (all allowed), then tamper with each container request the way a hostile
 * host would and check that the agent's decision is a denial naming the tampered field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyEnforcer, explainDenial } from '../../src/agent/index.js';
import { parseManifest, serializeManifest, listResources } from '../../src/k8s/manifest.js';
import { selectPodTemplate } from '../../src/k8s/workloads.js';
import { checkDrift } from '../../src/policy/check.js';
import { EXAMPLE_FILES, runExample, startHarness, type Harness, type PodRun } from './harness.js';

type Req = Record<string, unknown> & { OCI: { Process: { Env: string[]; Args: string[]; Capabilities: { Bounding: string[] } }; Mounts: unknown[] }; storages: { options: string[] }[] };

interface Mutation {
  name: string;
  /** Changes the request; returns the field path the denial must name, or undefined to skip. */
  apply(r: Req): string | undefined;
}

const MUTATIONS: Mutation[] = [
  { name: 'an added environment variable', apply: (r) => `OCI.Process.Env[${r.OCI.Process.Env.push('CONFCOM_INJECTED=1') - 1}]` },
  {
    name: 'a changed argument',
    apply: (r) => {
      const last = r.OCI.Process.Args.length - 1;
      r.OCI.Process.Args[last] = 'confcom-changed-argument';
      return `OCI.Process.Args[${last}]`;
    },
  },
  {
    name: 'a changed layer root hash',
    apply: (r) => {
      r.storages[0].options[3] = `io.katacontainers.fs-opt.root-hash=${'0'.repeat(64)}`;
      return 'storages[0].options[3]';
    },
  },
  {
    name: 'an extra mount',
    apply: (r) => `OCI.Mounts[${r.OCI.Mounts.push({ destination: '/host', source: '/', type_: 'bind', options: ['rbind', 'rw'] }) - 1}]`,
  },
  {
    name: 'a privileged capability added',
    apply: (r) => (r.OCI.Process.Capabilities.Bounding.includes('CAP_SYS_ADMIN') ? undefined : `OCI.Process.Capabilities.Bounding[${r.OCI.Process.Capabilities.Bounding.push('CAP_SYS_ADMIN') - 1}]`),
  },
];

function replayAll(pod: PodRun, onCreate?: (enforcer: PolicyEnforcer, request: Req) => void): PolicyEnforcer {
  const enforcer = PolicyEnforcer.fromText(pod.policy.policy, { syntax: 'v1' });
  for (const r of pod.requests) {
    if (r.kind === 'CreateContainerRequest' && onCreate) onCreate(enforcer, r.request as Req);
    const d = enforcer.decide(r.kind, r.request);
    if (!d.allowed) {
      const why = explainDenial(enforcer, r.kind, r.request, d).checks.map((c) => c.message);
      throw new Error(`${pod.resource}: ${r.kind} denied: ${why.join('; ')}`);
    }
  }
  return enforcer;
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

describe.each(EXAMPLE_FILES)('example %s', (file) => {
  it('generates a policy that allows every request the runtime sends for its pods', async () => {
    const { pods } = await runExample(h, file);
    expect(pods.length).toBeGreaterThan(0);
    for (const pod of pods) {
      const kinds = new Set(pod.requests.map((r) => r.kind));
      expect(kinds).toContain('CreateContainerRequest');
      replayAll(pod);
    }
  });

  it('denies tampered container requests, naming the tampered field', async () => {
    const { pods } = await runExample(h, file);
    for (const pod of pods) {
      let checked = 0;
      replayAll(pod, (enforcer, request) => {
        for (const m of MUTATIONS) {
          const copy = structuredClone(request);
          const path = m.apply(copy);
          if (path === undefined) continue;
          const d = enforcer.decide('CreateContainerRequest', copy);
          expect(d.allowed, `${pod.resource}: ${m.name} must be denied`).toBe(false);
          const [check] = explainDenial(enforcer, 'CreateContainerRequest', copy, d).checks;
          expect(check?.path, `${pod.resource}: ${m.name}: ${check?.message}`).toBe(path);
          checked++;
        }
      });
      expect(checked).toBeGreaterThanOrEqual(MUTATIONS.length);
    }
  });

  it('denies an exec command the policy does not list', async () => {
    const { pods } = await runExample(h, file);
    for (const pod of pods) {
      const created = pod.requests.filter((r) => r.kind === 'CreateContainerRequest').map((r) => r.request as { container_id: string; OCI: { Process: { Env: string[] } } });
      const enforcer = replayAll(pod);
      const target = created[created.length - 1];
      const request = { container_id: target.container_id, exec_id: 'a-new-exec', string_user: null, process: { Terminal: false, ConsoleSize: null, User: { UID: 0, GID: 0, AdditionalGids: [0], Username: '' }, Args: ['/bin/sh', '-c', 'cat /etc/shadow'], Env: target.OCI.Process.Env, Cwd: '/', Capabilities: null, Rlimits: [], NoNewPrivileges: false, ApparmorProfile: '', OOMScoreAdj: 0, SelinuxLabel: '' } };
      const d = enforcer.decide('ExecProcessRequest', request);
      expect(d.allowed).toBe(false);
      expect(explainDenial(enforcer, 'ExecProcessRequest', request, d).checks[0]?.path).toBe('process.Args');
    }
  });

  it('is deterministic and keeps the manifest\'s comments', async () => {
    const first = await runExample(h, file);
    const second = await runExample(h, file);
    const text = serializeManifest(first.manifests[0]);
    expect(serializeManifest(second.manifests[0])).toBe(text);
    expect(second.pods.map((p) => p.policy.hostData)).toEqual(first.pods.map((p) => p.policy.hostData));
    const comments = first.manifests[0].text.split('\n').filter((l) => /(^|\s)#\s/.test(l)).map((l) => l.slice(l.indexOf('#')));
    expect(comments.length).toBeGreaterThan(0);
    for (const c of comments) expect(text).toContain(c);
  });

  it('passes the drift check, and fails it after one field of the manifest changes', async () => {
    const { manifests, pods } = await runExample(h, file);
    const generated = parseManifest(serializeManifest(manifests[0]), file);
    const results = await checkDrift(generated, h.options());
    expect(results.map((r) => r.hostData)).toEqual(pods.map((p) => p.policy.hostData));

    const edited = parseManifest(serializeManifest(manifests[0]), file);
    const found = listResources(edited)
      .map((r) => ({ r, s: selectPodTemplate(r, 'kata-cc', 'default') }))
      .find((x) => x.s !== undefined && 'template' in x.s);
    if (!found?.s || !('template' in found.s)) throw new Error('no pod template');
    const [resource, selection] = [found.r, found.s];
    edited.documents[resource.document].doc.setIn([...resource.base, ...selection.template.templatePath, 'spec', 'containers', 0, 'workingDir'], '/confcom-edited');
    const reparsed = parseManifest(String(edited.documents.map((d) => d.doc.toString()).join('---\n')), file);
    const error = await checkDrift(reparsed, h.options()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'policy_drift', exitCode: 1 });
    expect((error as Error).message).toContain(`${resource.kind}/${resource.name}`);
    expect((error as Error).message).toMatch(/\.process\.Cwd is "[^"]*" in the policy but "\/confcom-edited" from the manifest/);
  });
});
