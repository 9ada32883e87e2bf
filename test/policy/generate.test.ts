/** What generation does to a stream beyond the policy itself: which objects it touches, and what never enters a policy. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listResources, serializeManifest } from '../../src/k8s/manifest.js';
import { parsePolicy } from '../../src/policy/render.js';
import { runExample, startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

type PolicyData = {
  pod: { hostname_regex: string; name_regex: string; namespace: string };
  containers: { name: string; process: { Env: string[]; EnvRegex: string[]; User: { UID: number; GID: number; AdditionalGids: number[] } }; storages: { options: string[] }[]; exec_commands: string[][] }[];
};
const dataOf = (policy: string) => parsePolicy(policy, 'test').data as unknown as PolicyData;

describe('generation', () => {
  it('annotates only pods of the runtime class and passes every other object through', async () => {
    const { manifests, pods } = await runExample(h, 'list.yaml');
    expect(pods.map((p) => p.resource)).toEqual(['Pod/hello']);
    const out = listResources({ ...manifests[0], documents: manifests[0].documents });
    const annotated = out.filter((r) => JSON.stringify(r.value).includes('io.katacontainers.config.agent.policy'));
    expect(annotated.map((r) => r.name)).toEqual(['hello']);
    const data = dataOf(pods[0].policy.policy);
    expect(data.pod.hostname_regex).toBe('^greeter$');
    expect(data.containers[1].process.Env).toContain('WHO=world');
  });

  it('never puts Secret values in a policy, and counts the variables it allows with any value', async () => {
    for (const [file, values] of [
      ['pod.yaml', ['do-not-put-me-in-a-policy']],
      ['deployment.yaml', ['c2VjcmV0', 'YXBp', 'postgres://api@']],
    ] as const) {
      const { pods, manifests } = await runExample(h, file);
      for (const v of values) {
        expect(pods[0].policy.policy).not.toContain(v);
        expect(JSON.stringify(pods[0].requests)).not.toContain(v);
      }
      expect(pods[0].policy.secretVariables).toBeGreaterThan(0);
      expect(serializeManifest(manifests[0])).toContain(values[0]);
    }
    const data = dataOf((await runExample(h, 'deployment.yaml')).pods[0].policy.policy);
    const api = data.containers.find((c) => c.name === 'api')!;
    expect(api.process.EnvRegex).toEqual(expect.arrayContaining(['^APP_DB_PASSWORD=((?s:.*))$', '^DATABASE_URL=postgres://((?s:.*))@db:5432/shop$']));
    expect(api.process.Env).toContain('MODE=production');
  });

  it('pins layers top first, with tardev names and the overlay over them', async () => {
    const { pods } = await runExample(h, 'replicaset.yaml');
    const worker = dataOf(pods[0].policy.policy).containers[1];
    const [top, bottom, overlay] = worker.storages;
    expect(top.options[3]).toMatch(/^io\.katacontainers\.fs-opt\.root-hash=[0-9a-f]{64}$/);
    expect(bottom.options[3]).not.toBe(top.options[3]);
    const layerOptions = overlay.options.filter((o) => o.startsWith('io.katacontainers.fs-opt.layer='));
    const decoded = layerOptions.map((o) => Buffer.from(o.split('=').slice(1).join('='), 'base64').toString());
    expect(decoded[0]).toContain(top.options[3]);
    expect(decoded[1]).toContain(bottom.options[3]);
    expect(overlay.options.at(-1)).toBe(`lowerdir=${decoded.map((d) => d.split(',')[0]).join(':')}`);
  });

  it('resolves users from the image and the pod', async () => {
    const rs = dataOf((await runExample(h, 'replicaset.yaml')).pods[0].policy.policy);
    expect(rs.containers[1].process.User).toEqual({ UID: 1001, GID: 1001, AdditionalGids: [1001, 50], Username: '' });
    expect(rs.containers[0].process.User).toMatchObject({ UID: 65535, GID: 65535 });
    const cron = dataOf((await runExample(h, 'cronjob.yaml')).pods[0].policy.policy);
    expect(cron.containers[1].process.User).toEqual({ UID: 2000, GID: 2000, AdditionalGids: [2000, 4000], Username: '' });
  });

  it('lists probe and hook commands as the only exec commands', async () => {
    const data = dataOf((await runExample(h, 'pod.yaml')).pods[0].policy.policy);
    expect(data.containers.find((c) => c.name === 'web')!.exec_commands).toEqual([['/usr/bin/web', '--check'], ['cat', '/tmp/ready'], ['/usr/bin/web', '--drain']]);
    expect(data.containers.find((c) => c.name === 'init-schema')!.exec_commands).toEqual([]);
  });
});
