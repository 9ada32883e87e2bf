/**
 * The rules' state and ordering: the sandbox first and once, the pause container before any other and
 * once, containers tied to the pinned sandbox name; and the host-side requests that must stay narrow.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyEnforcer } from '../../src/agent/index.js';
import type { SimulatedRequest } from '../../src/policy/simulate.js';
import { runExample, startHarness, type Harness, type PodRun } from './harness.js';

let h: Harness;
let pod: PodRun;
beforeAll(async () => {
  h = await startHarness();
  pod = (await runExample(h, 'deployment.yaml')).pods[0];
});
afterAll(async () => h?.close());

const fresh = () => PolicyEnforcer.fromText(pod.policy.policy, { syntax: 'v1' });
const first = (kind: string, n = 0): SimulatedRequest => pod.requests.filter((r) => r.kind === kind)[n];
type Create = {
  container_id: string;
  exec_id: string;
  OCI: { Annotations: Record<string, string>; Process: Record<string, unknown>; Linux: { Resources: { Devices: unknown[] } } };
};
const BUNDLE = 'io.katacontainers.pkg.oci.bundle_path';
const bundleOf = (c: Create) => c.OCI.Annotations[BUNDLE].split('/').at(-1)!;
const nameOf = (c: Create, i: number) => (i === 0 ? 'pause (sandbox)' : c.OCI.Annotations['io.kubernetes.cri.container-name']);

/** Replays the simulated requests up to (not including) the n-th request of `kind`. */
function replayUntil(kind: string, n: number): PolicyEnforcer {
  const e = fresh();
  let seen = 0;
  for (const r of pod.requests) {
    if (r.kind === kind && seen++ === n) break;
    expect(e.decide(r.kind, r.request).allowed).toBe(true);
  }
  return e;
}

describe('state kept in data.pstate', () => {
  it('records the sandbox, the sandbox name and every container', () => {
    const e = replayUntil('GetOOMEventRequest', 0);
    const creates = pod.requests.filter((r) => r.kind === 'CreateContainerRequest').map((r) => r.request as Create);
    expect(e.state).toEqual({
      sandbox_id: creates[0].container_id,
      sandbox_name: creates[0].OCI.Annotations['io.kubernetes.cri.sandbox-name'],
      containers: Object.fromEntries(creates.map((c, i) => [c.container_id, nameOf(c, i)])),
      bundles: Object.fromEntries(creates.map((c, i) => [bundleOf(c), nameOf(c, i)])),
      network_namespace: '',
      namespace: creates[0].OCI.Annotations['io.kubernetes.cri.sandbox-namespace'],
    });
  });

  it('allows CreateSandbox once', () => {
    const e = fresh();
    expect(e.decide('CreateSandboxRequest', first('CreateSandboxRequest').request).allowed).toBe(true);
    expect(e.decide('CreateSandboxRequest', first('CreateSandboxRequest').request).allowed).toBe(false);
  });

  it('holds every container to the sandbox ID of CreateSandbox, never to its own bundle', () => {
    const app = first('CreateContainerRequest', 1).request as Create;
    const foreign = structuredClone(app);
    foreign.OCI.Annotations['io.kubernetes.cri.sandbox-id'] = 'e'.repeat(64);
    const pinned = fresh();
    expect(pinned.decide('CreateSandboxRequest', first('CreateSandboxRequest').request).allowed).toBe(true);
    expect(pinned.decide('CreateContainerRequest', foreign).allowed).toBe(false);
    expect(pinned.decide('CreateContainerRequest', app).allowed).toBe(true);
    // Without CreateSandbox (genpolicy's cases) the ID is only checked for its form...
    expect(fresh().decide('CreateContainerRequest', foreign).allowed).toBe(true);
    // ...and it must not be the container's own bundle (emptyDirs live below the sandbox's).
    const withSandbox = (id: string): unknown => JSON.parse(JSON.stringify(app).replaceAll(app.OCI.Annotations['io.kubernetes.cri.sandbox-id'], id));
    expect(fresh().decide('CreateContainerRequest', withSandbox(bundleOf(app))).allowed).toBe(false);
    expect(fresh().decide('CreateContainerRequest', withSandbox('d'.repeat(64))).allowed).toBe(true);
  });

  it('never lets a container ID or bundle change container, and ties later containers to the sandbox name', () => {
    const e = replayUntil('CreateContainerRequest', 0);
    const pause = first('CreateContainerRequest', 0).request as Create;
    const app = first('CreateContainerRequest', 1).request as Create;
    expect(e.decide('CreateContainerRequest', pause).allowed).toBe(true);
    const other = structuredClone(app);
    other.OCI.Annotations['io.kubernetes.cri.sandbox-name'] = 'api-6d4cf56db6-zzzzz';
    expect(e.decide('CreateContainerRequest', other).allowed).toBe(false);
    expect(e.decide('CreateContainerRequest', app).allowed).toBe(true);
    // The same container again (the agent refuses the duplicate itself), as upstream allows.
    expect(e.decide('CreateContainerRequest', app).allowed).toBe(true);
    // The app's ID or bundle for the pause container: denied, whatever else matches.
    const renamed = structuredClone(app);
    renamed.container_id = renamed.exec_id = 'a'.repeat(64);
    expect(e.decide('CreateContainerRequest', renamed).allowed).toBe(true);
    const sameId = structuredClone(pause);
    sameId.container_id = sameId.exec_id = app.container_id;
    expect(e.decide('CreateContainerRequest', sameId).allowed).toBe(false);
  });

  it('lets a guest-pull storage be left out only for a bundle no other container used', async () => {
    const [run] = (await runExample(h, 'deployment.yaml', { settings: { ...h.settings, image_pull: 'guest-pull' } })).pods;
    const e = PolicyEnforcer.fromText(run.policy.policy, { syntax: 'v1' });
    const creates = run.requests.filter((r) => r.kind === 'CreateContainerRequest').map((r) => r.request as Create & { storages: { driver: string }[] });
    const app = creates[1];
    const bare = structuredClone(app);
    bare.storages = bare.storages.filter((st) => st.driver !== 'image_guest_pull');
    expect(bare.storages.length).toBeLessThan(app.storages.length);
    expect(e.decide('CreateContainerRequest', bare).allowed).toBe(true);
    // A container on another container's bundle would run in that one's rootfs.
    const e2 = PolicyEnforcer.fromText(run.policy.policy, { syntax: 'v1' });
    expect(e2.decide('CreateContainerRequest', app).allowed).toBe(true);
    const onBundle = (c: Create, from: string, to: string): Create => ({ ...structuredClone(c), OCI: JSON.parse(JSON.stringify(c.OCI).replaceAll(from, to)) as Create['OCI'] });
    const pauseBare = { ...onBundle(creates[0], bundleOf(creates[0]), bundleOf(app)), storages: [] };
    pauseBare.container_id = pauseBare.exec_id = 'b'.repeat(64);
    expect(e2.decide('CreateContainerRequest', pauseBare).allowed).toBe(false);
    const own = { ...onBundle(pauseBare, bundleOf(app), 'c'.repeat(64)), storages: [] };
    expect(e2.decide('CreateContainerRequest', own).allowed).toBe(true);
  });

  it('pins the namespace the manifest names; without one, the first container pins any', async () => {
    const named = replayUntil('CreateContainerRequest', 0);
    const elsewhere = (c: Create, ns: string) => JSON.parse(JSON.stringify(c).replaceAll(`"io.kubernetes.cri.sandbox-namespace":"${c.OCI.Annotations['io.kubernetes.cri.sandbox-namespace']}"`, `"io.kubernetes.cri.sandbox-namespace":"${ns}"`).replaceAll(`/var/log/pods/${c.OCI.Annotations['io.kubernetes.cri.sandbox-namespace']}_`, `/var/log/pods/${ns}_`)) as Create;
    const pause = first('CreateContainerRequest', 0).request as Create;
    expect(named.decide('CreateContainerRequest', elsewhere(pause, 'other')).allowed).toBe(false);
    const [run] = (await runExample(h, 'pod.yaml')).pods;
    const creates = run.requests.filter((r) => r.kind === 'CreateContainerRequest').map((r) => r.request as Create);
    const e = PolicyEnforcer.fromText(run.policy.policy, { syntax: 'v1' });
    for (const r of run.requests) if (r.kind === 'CreateSandboxRequest') e.decide(r.kind, r.request);
    expect(e.decide('CreateContainerRequest', elsewhere(creates[0], 'team-a')).allowed).toBe(true);
    expect(e.decide('CreateContainerRequest', elsewhere(creates[1], 'team-b')).allowed).toBe(false);
    expect(e.decide('CreateContainerRequest', elsewhere(creates[1], 'team-a')).allowed).toBe(true);
    expect(e.decide('CreateContainerRequest', elsewhere(creates[1], 'Not_A_Label')).allowed).toBe(false);
  });

  it('refuses a sandbox name outside the pattern of the Deployment', () => {
    const e = replayUntil('CreateContainerRequest', 0);
    const pause = structuredClone(first('CreateContainerRequest', 0).request) as Create;
    pause.OCI.Annotations['io.kubernetes.cri.sandbox-name'] = 'other-6d4cf56db6-x7k2q';
    expect(e.decide('CreateContainerRequest', pause).allowed).toBe(false);
  });

  it('starts only containers it created', () => {
    const e = replayUntil('StartContainerRequest', 0);
    expect(e.decide('StartContainerRequest', { container_id: 'f'.repeat(64) }).allowed).toBe(false);
    expect(e.decide('StartContainerRequest', first('StartContainerRequest').request).allowed).toBe(true);
  });

  it('refuses cgroup device rules', () => {
    const e = replayUntil('CreateContainerRequest', 1);
    const c = structuredClone(first('CreateContainerRequest', 1).request) as Create;
    c.OCI.Linux.Resources.Devices.push({ Allow: true, Type: 'a', Major: null, Minor: null, Access: 'rwm' });
    expect(e.decide('CreateContainerRequest', c).allowed).toBe(false);
  });
});

describe('host-side requests', () => {
  it('keeps copies inside the shared directory', () => {
    const e = fresh();
    const base = first('CopyFileRequest').request as Record<string, unknown>;
    expect(e.decide('CopyFileRequest', base).allowed).toBe(true);
    expect(e.decide('CopyFileRequest', { ...base, path: `${String(base.path)}/../../etc/passwd` }).allowed).toBe(false);
    expect(e.decide('CopyFileRequest', { ...base, path: '/etc/shadow' }).allowed).toBe(false);
    expect(e.decide('CopyFileRequest', { ...base, symlink_src: '/etc/shadow' }).allowed).toBe(false);
    // Symlinks only beneath a top-level shared entry (as upstream), pointing down.
    expect(e.decide('CopyFileRequest', { ...base, symlink_src: '..data/token' }).allowed).toBe(false);
    expect(e.decide('CopyFileRequest', { ...base, path: `${String(base.path)}/token`, symlink_src: '..data/token' }).allowed).toBe(true);
    expect(e.decide('CopyFileRequest', { ...base, path: `${String(base.path)}/token`, symlink_src: ['/etc/shadow'] }).allowed).toBe(false);
  });

  it('refuses the loopback interface and routes through it', () => {
    const e = fresh();
    const iface = structuredClone(first('UpdateInterfaceRequest').request) as { interface: { name: string } };
    iface.interface.name = 'lo';
    expect(e.decide('UpdateInterfaceRequest', iface).allowed).toBe(false);
    const routes = structuredClone(first('UpdateRoutesRequest').request) as { routes: { Routes: { device: string }[] } };
    routes.routes.Routes[0].device = 'lo';
    expect(e.decide('UpdateRoutesRequest', routes).allowed).toBe(false);
  });

  it('refuses ephemeral mounts, log reads and stdin writes by default', () => {
    const e = fresh();
    expect(e.decide('UpdateEphemeralMountsRequest', { storages: [{ driver: 'ephemeral' }] }).allowed).toBe(false);
    expect(e.decide('ReadStreamRequest', { container_id: 'x', exec_id: 'y', len: 10 }).allowed).toBe(false);
    expect(e.decide('WriteStreamRequest', { container_id: 'x', exec_id: 'y', data: [] }).allowed).toBe(false);
    expect(e.decide('SetPolicyRequest', { policy: 'package agent_policy' }).allowed).toBe(false);
  });

  it('follows the settings switches for logs and exec commands', async () => {
    const settings = { ...h.settings, logs: { allow_read: true }, exec: { probes_and_hooks: false, allow_commands: [['date']] } };
    const [run] = (await runExample(h, 'replicaset.yaml', { settings })).pods;
    const e = PolicyEnforcer.fromText(run.policy.policy, { syntax: 'v1' });
    for (const r of run.requests) e.decide(r.kind, r.request);
    const created = run.requests.filter((r) => r.kind === 'CreateContainerRequest').at(-1)!.request as { container_id: string };
    expect(run.requests.some((r) => r.kind === 'ExecProcessRequest')).toBe(false);
    expect(e.decide('ReadStreamRequest', { container_id: created.container_id, exec_id: created.container_id, len: 10 }).allowed).toBe(true);
    const p = (created as unknown as Create).OCI.Process;
    const process = { Terminal: p.Terminal, Cwd: p.Cwd, User: p.User, NoNewPrivileges: p.NoNewPrivileges, Capabilities: null, SelinuxLabel: '', ApparmorProfile: '', Env: [] };
    const exec = (args: string[]) => ({ container_id: created.container_id, exec_id: 'e', string_user: null, process: { ...process, Args: args } });
    expect(e.decide('ExecProcessRequest', exec(['date'])).allowed).toBe(true);
    expect(e.decide('ExecProcessRequest', exec(['/bin/sh', '-c', 'test -e /tmp/started'])).allowed).toBe(false);
  });
});
