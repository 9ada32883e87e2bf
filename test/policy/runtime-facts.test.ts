/**
 * What the real runtime sends that the rules must get right, each with a request shaped as the
 * runtime (or the agent, for CopyFile) sends it: containerd 2.x annotations and sysctls, forwarded
 * io.katacontainers.* annotations, CopyFile in both shapes, routes/interfaces/ARP as upstream, and
 * fields of the wrong type, which must deny.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyEnforcer } from '../../src/agent/index.js';
import { runtimeClassMatches, selectPodTemplate } from '../../src/k8s/workloads.js';
import { guestPullName, runtimeImageName } from '../../src/policy/policy-data.js';
import type { ContainerModel } from '../../src/policy/container.js';
import type { SimulatedRequest } from '../../src/policy/simulate.js';
import { parseManifest } from '../../src/k8s/manifest.js';
import { generatePolicies, modelPods } from '../../src/policy/generate.js';
import { simulatePod } from '../../src/policy/simulate.js';
import { runExample, startHarness, type Harness, type PodRun } from './harness.js';

let h: Harness;
let pod: PodRun;
beforeAll(async () => {
  h = await startHarness();
  pod = (await runExample(h, 'deployment.yaml')).pods[0];
});
afterAll(async () => h?.close());

type Create = { container_id: string; OCI: { Annotations: Record<string, string>; Linux: { Sysctl: Record<string, string> } } };
const fresh = () => PolicyEnforcer.fromText(pod.policy.policy, { syntax: 'v1' });
const creates = (): SimulatedRequest[] => pod.requests.filter((r) => r.kind === 'CreateContainerRequest');
/** Decides every request before the first CreateContainer, then returns the enforcer. */
function afterSandbox(): PolicyEnforcer {
  const e = fresh();
  for (const r of pod.requests) {
    if (r.kind === 'CreateContainerRequest') break;
    expect(e.decide(r.kind, r.request).allowed).toBe(true);
  }
  return e;
}

describe('containerd 2.x', () => {
  it('accepts the default pause sysctls with their values only', () => {
    const pause = structuredClone(creates()[0].request) as Create;
    pause.OCI.Linux.Sysctl = { ...pause.OCI.Linux.Sysctl, 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.ping_group_range': '0 2147483647' };
    expect(afterSandbox().decide('CreateContainerRequest', pause).allowed).toBe(true);
    pause.OCI.Linux.Sysctl['net.ipv4.ip_unprivileged_port_start'] = '1024';
    expect(afterSandbox().decide('CreateContainerRequest', pause).allowed).toBe(false);
    pause.OCI.Linux.Sysctl = { ...pause.OCI.Linux.Sysctl, 'net.ipv4.ip_unprivileged_port_start': '0', 'kernel.shm_rmid_forced': '1' };
    expect(afterSandbox().decide('CreateContainerRequest', pause).allowed).toBe(false);
  });

  it('accepts podsandbox.image-name and the sandbox cpu/memory annotations on containers', () => {
    const e = afterSandbox();
    expect(e.decide('CreateContainerRequest', creates()[0].request).allowed).toBe(true);
    const app = structuredClone(creates()[1].request) as Create;
    Object.assign(app.OCI.Annotations, { 'io.kubernetes.cri.podsandbox.image-name': 'registry.k8s.io/pause:3.10', 'io.kubernetes.cri.sandbox-cpu-period': '100000', 'io.kubernetes.cri.sandbox-memory': '0' });
    expect(e.decide('CreateContainerRequest', structuredClone(app)).allowed).toBe(true);
  });

  it('refuses an unknown annotation and a pod policy annotation value of the wrong type', () => {
    const e = afterSandbox();
    expect(e.decide('CreateContainerRequest', creates()[0].request).allowed).toBe(true);
    const app = structuredClone(creates()[1].request) as Create;
    app.OCI.Annotations['io.katacontainers.config.hypervisor.kernel_params'] = 'init=/bin/sh';
    expect(e.decide('CreateContainerRequest', app).allowed).toBe(false);
  });

  it('accepts the pod policy annotation forwarded to a container (bound by HOST_DATA, not by itself)', () => {
    const e = afterSandbox();
    expect(e.decide('CreateContainerRequest', creates()[0].request).allowed).toBe(true);
    const app = structuredClone(creates()[1].request) as Create;
    app.OCI.Annotations['io.katacontainers.config.agent.policy'] = Buffer.from('package agent_policy').toString('base64');
    expect(e.decide('CreateContainerRequest', app).allowed).toBe(true);
  });
});

describe('CreateSandbox as the runtime sends it', () => {
  it('accepts the recorded AKS storages (virtio-fs share, shm), with or without Storage.shared', () => {
    const sandbox = structuredClone(pod.requests.find((r) => r.kind === 'CreateSandboxRequest')!.request) as { storages: Record<string, unknown>[] };
    sandbox.storages = [
      { driver: 'virtio-fs', driver_options: [], source: 'kataShared', fstype: 'virtiofs', options: [], mount_point: '/run/kata-containers/shared/containers/', fs_group: null },
      { driver: 'ephemeral', driver_options: [], source: 'shm', fstype: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'mode=1777', 'size=67108864'], mount_point: '/run/kata-containers/sandbox/shm', fs_group: null },
    ];
    expect(fresh().decide('CreateSandboxRequest', sandbox).allowed).toBe(true);
    const withShared = { ...sandbox, storages: sandbox.storages.map((st) => ({ ...st, shared: false })) };
    expect(fresh().decide('CreateSandboxRequest', withShared).allowed).toBe(true);
    const sharedTrue = { ...sandbox, storages: sandbox.storages.map((st) => ({ ...st, shared: true })) };
    expect(fresh().decide('CreateSandboxRequest', sharedTrue).allowed).toBe(false);
    const moved = { ...sandbox, storages: [{ ...sandbox.storages[0], mount_point: '/etc' }] };
    expect(fresh().decide('CreateSandboxRequest', moved).allowed).toBe(false);
  });
});

describe('host-side requests as the runtime sends them', () => {
  const prefix = `/run/kata-containers/shared/containers/${'a'.repeat(64)}-${'b'.repeat(16)}-`;
  it('CopyFile: the agent PolicyCopyFileRequest shape, as upstream', () => {
    const e = fresh();
    const copy = (r: Record<string, unknown>) => e.decide('CopyFileRequest', { file_size: 0, file_mode: 0, dir_mode: 0, uid: 0, gid: 0, offset: 0, symlink_target: '', ...r }).allowed;
    expect(copy({ path: `${prefix}resolv.conf`, file_type: 'Regular' })).toBe(true);
    expect(copy({ path: `${prefix}foo`, file_type: 'Directory' })).toBe(true);
    expect(copy({ path: `${prefix}foo../bar`, file_type: 'Regular' })).toBe(true);
    expect(copy({ path: `${prefix}foo/lnk`, file_type: 'Symlink', symlink_target: '..data/token' })).toBe(true);
    expect(copy({ path: `${prefix}foo`, file_type: 'Symlink', symlink_target: 'abc' })).toBe(false);
    expect(copy({ path: `${prefix}foo/lnk`, file_type: 'Symlink', symlink_target: 'a/../../b' })).toBe(false);
    expect(copy({ path: `${prefix}foo/lnk`, file_type: 'Symlink', symlink_target: '/abc' })).toBe(false);
    expect(copy({ path: `${prefix}foo/bar`, file_type: 'Unknown' })).toBe(false);
    expect(copy({ path: `${prefix}foo/..`, file_type: 'Directory' })).toBe(false);
    expect(copy({ path: `/run/kata-containers/${'a'.repeat(64)}/rootfs/bin/sh`, file_type: 'Regular' })).toBe(false);
    expect(copy({ path: [`${prefix}x`], file_type: 'Regular' })).toBe(false);
    expect(copy({ path: `${prefix}foo/lnk`, file_type: 'Symlink', symlink_target: ['/etc/shadow'] })).toBe(false);
  });

  it('UpdateInterface: raw flags only IFF_NOARP; a name of the wrong type denies', () => {
    const e = fresh();
    const iface = (i: Record<string, unknown>) => e.decide('UpdateInterfaceRequest', { interface: { device: 'eth0', name: 'eth0', IPAddresses: [], mtu: 1500, hwAddr: 'b2:76:e0:e4:44:83', devicePath: '', type_: '', raw_flags: 0, ...i } }).allowed;
    expect(iface({})).toBe(true);
    expect(iface({ raw_flags: 128 })).toBe(true);
    expect(iface({ raw_flags: 64 })).toBe(false);
    expect(iface({ name: ['lo'] })).toBe(false);
    expect(iface({ hwAddr: '00:00:00:00:00:00' })).toBe(false);
  });

  it('UpdateRoutes: no loopback source in any spelling; a device of the wrong type denies', () => {
    const e = fresh();
    const route = (r: Record<string, unknown>) => e.decide('UpdateRoutesRequest', { routes: { Routes: [{ dest: '', gateway: '10.244.0.1', device: 'eth0', source: '', scope: 0, family: 0, flags: 0, mtu: 0, ...r }] } }).allowed;
    expect(route({})).toBe(true);
    for (const source of ['127.0.0.1', '::1', '00::001']) expect(route({ source })).toBe(false);
    expect(route({ device: { x: 'lo' } })).toBe(false);
    expect(route({ device: 'lo' })).toBe(false);
  });

  it('AddARPNeighbors: well-formed neighbours pass, loopback, bad state and flags do not', () => {
    const e = fresh();
    const arp = (n: Record<string, unknown>) => e.decide('AddARPNeighborsRequest', { neighbors: { ARPNeighbors: [{ toIPAddress: { family: 0, address: '10.0.0.1', mask: '' }, device: 'eth0', lladdr: '00:00:5e:00:53:01', state: 128, flags: 0, ...n }] } }).allowed;
    expect(arp({})).toBe(true);
    expect(arp({ state: 2, flags: 8 })).toBe(true);
    expect(arp({ device: 'lo' })).toBe(false);
    expect(arp({ toIPAddress: { family: 0, address: '127.1.2.3', mask: '' } })).toBe(false);
    expect(arp({ state: 0 })).toBe(false);
    expect(arp({ flags: 5 })).toBe(false);
  });
});

describe('image names and runtime classes', () => {
  it('expects repo@digest from containerd when the manifest pins a digest', () => {
    expect(runtimeImageName('ghcr.io/a/gid:latest@sha256:ab')).toBe('ghcr.io/a/gid@sha256:ab');
    expect(runtimeImageName('localhost:5000/app:1')).toBe('localhost:5000/app:1');
    const c = { type: 'container', imageName: 'localhost:5000/app:1', imageDigest: 'sha256:cd' } as ContainerModel;
    expect(guestPullName(c)).toBe('localhost:5000/app@sha256:cd');
  });

  it('accepts the repo@digest image-name annotation the runtime sends', () => {
    const e = afterSandbox();
    expect(e.decide('CreateContainerRequest', creates()[0].request).allowed).toBe(true);
    const app = structuredClone(creates()[1].request) as Create;
    app.OCI.Annotations['io.kubernetes.cri.image-name'] = runtimeImageName(app.OCI.Annotations['io.kubernetes.cri.image-name']);
    expect(e.decide('CreateContainerRequest', app).allowed).toBe(true);
  });

  it('matches runtime classes by name and prefix*, and says why a pod is skipped', () => {
    const classes = ['kata-cc*', 'kata-qemu-snp'];
    expect(runtimeClassMatches('kata-cc-isolation', classes)).toBe(true);
    expect(runtimeClassMatches('kata-qemu-snp', classes)).toBe(true);
    expect(runtimeClassMatches('kata-qemu-snp-x', classes)).toBe(false);
    expect(runtimeClassMatches('runc', [])).toBe(true);
    const resource = { kind: 'Pod', name: 'p', value: { spec: { runtimeClassName: 'runc', containers: [] } } } as unknown as Parameters<typeof selectPodTemplate>[0];
    expect(selectPodTemplate(resource, classes, 'default')).toEqual({ skipped: "Pod/p: runtimeClassName 'runc' is not one of 'kata-cc*', 'kata-qemu-snp'" });
  });
});

describe('guest pull', () => {
  it('allows the pod as the runtime pulls it in the TEE, bound to the resolved digest', async () => {
    const settings = { ...h.settings, image_pull: 'guest-pull' as const };
    const run = (await runExample(h, 'deployment.yaml', { settings })).pods[0];
    const e = PolicyEnforcer.fromText(run.policy.policy, { syntax: 'v1' });
    for (const r of run.requests) expect(e.decide(r.kind, r.request).allowed, r.kind).toBe(true);
    const app = structuredClone(run.requests.filter((r) => r.kind === 'CreateContainerRequest')[1].request) as { container_id: string; storages: { driver: string; source: string }[]; OCI: { Root: { Path: string } } };
    const pulled = app.storages.find((s) => s.driver === 'image_guest_pull');
    expect(pulled?.source).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(app.OCI.Root.Path).toBe(`/run/kata-containers/${app.container_id}/rootfs`);
    // A tag (which the registry may move) or another digest is not what the policy allows.
    const fresh2 = () => {
      const f = PolicyEnforcer.fromText(run.policy.policy, { syntax: 'v1' });
      for (const r of run.requests) {
        if (r.kind === 'CreateContainerRequest' && (r.request as { container_id: string }).container_id === app.container_id) break;
        f.decide(r.kind, r.request);
      }
      return f;
    };
    const moved = structuredClone(app);
    (moved.storages.find((s) => s.driver === 'image_guest_pull') as { source: string }).source = pulled!.source.replace(/@sha256:.*/, '@sha256:' + 'f'.repeat(64));
    expect(fresh2().decide('CreateContainerRequest', moved).allowed).toBe(false);
    expect(fresh2().decide('CreateContainerRequest', app).allowed).toBe(true);
  });
});

/** A one-container pod of the example image, with `spec` merged in; its policy and simulated requests. */
async function inlinePod(image: string, spec: string, container = '', settings = h.settings): Promise<{ policy: string; requests: SimulatedRequest[]; warnings: string[] }> {
  const text = `apiVersion: v1\nkind: Pod\nmetadata:\n  name: facts\nspec:\n  runtimeClassName: kata-cc-isolation\n${spec}  containers:\n  - name: app\n    image: ${image}\n    command: ["/bin/sh"]\n${container}`;
  const { policies } = await generatePolicies([parseManifest(text, 'facts.yaml')], h.options({ settings }));
  const { pods } = await modelPods([parseManifest(text, 'facts.yaml')], h.options({ settings }));
  return { policy: policies[0].policy, requests: simulatePod(pods[0].model, settings), warnings: policies[0].warnings };
}

type Storage = { driver: string; driver_options: string[]; source: string; fstype: string; options: string[]; mount_point: string; fs_group: null | { group_id: number }; shared?: boolean };
type AppRequest = { OCI: { Mounts: { destination: string; source: string; type_: string }[] }; storages: Storage[] };

describe('emptyDir volumes as the settings choose (genpolicy\'s emptydir_type)', () => {
  const spec = '  securityContext:\n    fsGroup: 1000\n  volumes:\n  - name: scratch\n    emptyDir: {}\n  - name: cache\n    emptyDir:\n      medium: Memory\n';
  const mounts = '    volumeMounts:\n    - name: scratch\n      mountPath: /scratch\n    - name: cache\n      mountPath: /cache\n';
  const run = async (type: string) => {
    const r = await inlinePod(exampleImage(), spec, mounts, { ...h.settings, empty_dir: { ...h.settings.empty_dir, type } });
    const e = PolicyEnforcer.fromText(r.policy, { syntax: 'v1' });
    const app = r.requests.filter((x) => x.kind === 'CreateContainerRequest')[1].request as AppRequest;
    // Everything before the app container, so the state is the runtime's.
    for (const x of r.requests) {
      if (x.request === app) break;
      expect(e.decide(x.kind, x.request).allowed, x.kind).toBe(true);
    }
    return { r, e, app };
  };
  const volumes = (app: AppRequest) => app.storages.filter((s) => s.driver !== 'overlayfs' && !s.options.some((o) => o.startsWith('io.katacontainers.fs-opt.root-hash=')));

  it('shared-fs: memory-backed first, fsGroup as an fsgid option of both', async () => {
    const { e, app } = await run('shared-fs');
    expect(volumes(app).map((s) => [s.driver, s.options])).toEqual([['ephemeral', ['fsgid=1000']], ['local', ['mode=0777', 'fsgid=1000']]]);
    const local = app.storages.find((s) => s.driver === 'local')!;
    expect(app.OCI.Mounts.find((m) => m.destination === '/scratch')?.source.startsWith(local.mount_point)).toBe(true);
    const noGroup = structuredClone(app);
    noGroup.storages.find((s) => s.driver === 'local')!.options = ['mode=0777'];
    expect(e.decide('CreateContainerRequest', noGroup).allowed).toBe(false);
    const swapped = structuredClone(app);
    const [a, b] = [swapped.storages.findIndex((s) => s.driver === 'ephemeral'), swapped.storages.findIndex((s) => s.driver === 'local')];
    [swapped.storages[a], swapped.storages[b]] = [swapped.storages[b], swapped.storages[a]];
    expect(e.decide('CreateContainerRequest', swapped).allowed).toBe(false);
    expect(e.decide('CreateContainerRequest', app).allowed).toBe(true);
  });

  it('block-encrypted: one encrypted device per mount, mounted at its ID, fsGroup in fs_group', async () => {
    const { e, app } = await run('block-encrypted');
    const [memory, disk] = volumes(app);
    expect(memory.driver).toBe('ephemeral');
    expect(disk).toMatchObject({ driver: 'blk', driver_options: ['encryption_key=ephemeral', 'create_filesystem'], fstype: 'ext4', options: [], shared: true, fs_group: { group_id: 1000 } });
    expect(disk.mount_point).toBe(`/run/kata-containers/sandbox/storage/${Buffer.from(disk.source).toString('base64')}`);
    const mount = app.OCI.Mounts.find((m) => m.destination === '/scratch')!;
    expect([mount.type_, mount.source]).toEqual(['bind', disk.mount_point]);
    const tamper = (f: (r: AppRequest) => void) => {
      const copy = structuredClone(app);
      f(copy);
      return e.decide('CreateContainerRequest', copy).allowed;
    };
    const blk = (r: AppRequest) => r.storages.find((s) => s.driver === 'blk' && s.fstype === 'ext4')!;
    expect(tamper((r) => (blk(r).driver_options = ['create_filesystem']))).toBe(false);
    expect(tamper((r) => (blk(r).fs_group = { group_id: 0 }))).toBe(false);
    expect(tamper((r) => (blk(r).mount_point = '/run/kata-containers/sandbox/storage/other'))).toBe(false);
    expect(tamper((r) => (r.OCI.Mounts.find((m) => m.destination === '/scratch')!.source = '/run/kata-containers/sandbox/storage/MDkvMDk='))).toBe(false);
    expect(e.decide('CreateContainerRequest', app).allowed).toBe(true);
  });

  it('block-plain: a plain device with discard, refused under the encrypted setting', async () => {
    const plain = await run('block-plain');
    const disk = volumes(plain.app)[1];
    expect(disk).toMatchObject({ driver: 'blk', driver_options: ['create_filesystem'], options: ['discard'] });
    expect(plain.e.decide('CreateContainerRequest', plain.app).allowed).toBe(true);
    const encrypted = await run('block-encrypted');
    expect(encrypted.e.decide('CreateContainerRequest', plain.app).allowed).toBe(false);
  });

  it('refuses an unknown emptyDir type', async () => {
    await expect(run('nfs')).rejects.toMatchObject({ code: 'settings_invalid' });
  });
});

const exampleImage = () => (creates()[1].request as Create).OCI.Annotations['io.kubernetes.cri.image-name'];

describe('pod spec facts', () => {
  it('shareProcessNamespace: sandbox_pidns false for CreateSandbox and the pause container, true for the app', async () => {
    const run = await inlinePod(exampleImage(), '  shareProcessNamespace: true\n');
    const pidns = run.requests.filter((r) => r.kind === 'CreateSandboxRequest' || r.kind === 'CreateContainerRequest').map((r) => (r.request as { sandbox_pidns: boolean }).sandbox_pidns);
    expect(pidns).toEqual([false, false, true]);
    const e = PolicyEnforcer.fromText(run.policy, { syntax: 'v1' });
    for (const r of run.requests) expect(e.decide(r.kind, r.request).allowed, r.kind).toBe(true);
    const flipped = PolicyEnforcer.fromText(run.policy, { syntax: 'v1' });
    const sandbox = run.requests.find((r) => r.kind === 'CreateSandboxRequest')!;
    expect(flipped.decide('CreateSandboxRequest', { ...(sandbox.request as object), sandbox_pidns: true }).allowed).toBe(false);
  });

  it('tty: true expects TERM=xterm, as the runtime adds it', async () => {
    const run = await inlinePod(exampleImage(), '', '    tty: true\n');
    const app = run.requests.filter((r) => r.kind === 'CreateContainerRequest')[1].request as { OCI: { Process: { Env: string[] } } };
    expect(app.OCI.Process.Env).toContain('TERM=xterm');
    const e = PolicyEnforcer.fromText(run.policy, { syntax: 'v1' });
    for (const r of run.requests) expect(e.decide(r.kind, r.request).allowed, r.kind).toBe(true);
  });

  it('hostNetwork: generates, with a warning naming the risk', async () => {
    const run = await inlinePod(exampleImage(), '  hostNetwork: true\n');
    expect(run.warnings.join('\n')).toMatch(/hostNetwork: true.*node's network/);
  });
});
