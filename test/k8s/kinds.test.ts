/** The names each kind's pods get: the patterns match what controllers create, and nothing else. */
import { describe, expect, it } from 'vitest';
import { WORKLOAD_KINDS, workloadKind } from '../../src/k8s/kinds/index.js';
import type { Resource } from '../../src/k8s/manifest.js';

const resource = (kind: string, metadata: Record<string, unknown>, spec: Record<string, unknown> = {}): Resource => ({
  file: 'f.yaml',
  document: 0,
  base: [],
  kind,
  apiVersion: 'v1',
  name: String(metadata.name ?? metadata.generateName ?? ''),
  value: { kind, metadata, spec },
});

const CASES: [string, string[], string[]][] = [
  ['Pod', ['web'], ['web-1', 'xweb']],
  ['Deployment', ['web-6d4cf56db6-x7k2q', 'web-7b9f-abcde'], ['web-x7k2q', 'web-6d4cf56db6-x7k2q-1', 'other-6d4cf56db6-x7k2q']],
  ['ReplicaSet', ['web-x7k2q'], ['web-x7k2', 'web-6d4cf56db6-x7k2q']],
  ['ReplicationController', ['web-a1b2c'], ['web']],
  ['DaemonSet', ['web-zzzzz'], ['web-ZZZZZ']],
  ['StatefulSet', ['web-0', 'web-12'], ['web-01', 'web-a']],
  ['Job', ['web-q9q9q'], ['web-q9q9q9']],
  ['CronJob', ['web-28000000-abcde'], ['web-abcde', 'web-28000000']],
];

describe('pod name patterns', () => {
  it('covers every policy-bearing kind', () => {
    expect(WORKLOAD_KINDS.map((k) => k.kind).sort()).toEqual(CASES.map((c) => c[0]).sort());
  });

  it.each(CASES)('%s', (kind, good, bad) => {
    const pattern = workloadKind(kind)!.podName(resource(kind, { name: 'web' }));
    const re = new RegExp(pattern.regex);
    for (const name of [...good, pattern.sample]) expect(re.test(name), name).toBe(true);
    for (const name of bad) expect(re.test(name), name).toBe(false);
  });

  it('follows generateName for pods', () => {
    const pattern = workloadKind('Pod')!.podName(resource('Pod', { generateName: 'job.x-' }));
    expect(pattern.exact).toBeUndefined();
    expect(new RegExp(pattern.regex).test('job.x-abcde')).toBe(true);
    expect(new RegExp(pattern.regex).test('jobXx-abcde')).toBe(false);
  });

  it('lists StatefulSet claim templates', () => {
    const sts = resource('StatefulSet', { name: 'db' }, { volumeClaimTemplates: [{ metadata: { name: 'data' } }, { metadata: { name: 'logs' } }] });
    expect(workloadKind('StatefulSet')!.claimTemplates!(sts)).toEqual(['data', 'logs']);
  });
});
