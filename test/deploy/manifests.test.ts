/** The deployment manifests parse, reference each other consistently, and use real CLI flags. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { runConfcom } from '../helpers/cli.js';

const read = (f: string) => parseAllDocuments(readFileSync(new URL(`../../deploy/attestation/${f}`, import.meta.url), 'utf8')).map((d) => d.toJSON());

describe('deploy/attestation', () => {
  const kustomization = read('kustomization.yaml')[0] as { resources: string[] };

  it('lists resources that exist and parse', () => {
    for (const r of kustomization.resources) expect(read(r).length).toBeGreaterThan(0);
  });

  it('runs `serve attestation` with flags the CLI accepts and probes its /health endpoint', async () => {
    const [deployment] = read('deployment.yaml') as { spec: { template: { spec: { containers: { args: string[]; readinessProbe: { httpGet: { path: string } } }[] } } } }[];
    const container = deployment.spec.template.spec.containers[0];
    expect(container.args.slice(0, 2)).toEqual(['serve', 'attestation']);
    expect(container.args).not.toContain('--trust-simulator');
    expect(container.readinessProbe.httpGet.path).toBe('/health');
    const help = await runConfcom(['serve', 'attestation', '--help']);
    for (const flag of container.args.filter((a) => a.startsWith('--'))) expect(help.stdout).toContain(flag);
  });

  it('selects the pods the deployment labels', () => {
    const [service] = read('service.yaml') as { spec: { selector: Record<string, string> } }[];
    const [deployment] = read('deployment.yaml') as { spec: { template: { metadata: { labels: Record<string, string> } } } }[];
    expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
  });
});
