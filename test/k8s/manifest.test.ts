/** Manifest streams: documents, List items, annotations written back with comments and untouched documents kept. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';
import { formatPath, listResources, parseManifest, serializeManifest, setAnnotation } from '../../src/k8s/manifest.js';
import { ConfigStore } from '../../src/k8s/configs.js';
import { selectPodTemplate } from '../../src/k8s/workloads.js';

const FILE = join(REPO_ROOT, 'test/fixtures/k8s/stream.yaml');
const TEXT = readFileSync(FILE, 'utf8');

describe('manifest streams', () => {
  it('lists every object, List items included', () => {
    const resources = listResources(parseManifest(TEXT, FILE));
    expect(resources.map((r) => `${r.document}:${r.kind}/${r.name}`)).toEqual(['0:ConfigMap/settings', '1:Deployment/web', '2:Pod/in-list', '2:Secret/creds', '3:Unknown/passthrough']);
    expect(resources[2].base).toEqual(['items', 0]);
    expect(resources[1].namespace).toBe('shop');
  });

  it('writes an unchanged stream back byte for byte', () => {
    expect(serializeManifest(parseManifest(TEXT, FILE))).toBe(TEXT);
  });

  it('adds annotations keeping comments, and leaves other documents as they were', () => {
    const m = parseManifest(TEXT, FILE);
    const [, deployment, pod] = listResources(m);
    expect(setAnnotation(m, deployment, ['spec', 'template', 'metadata'], 'example.com/a', 'one')).toBe(true);
    expect(setAnnotation(m, pod, ['metadata'], 'example.com/b', 'two')).toBe(true);
    expect(setAnnotation(m, pod, ['metadata'], 'example.com/b', 'two')).toBe(false);
    const out = serializeManifest(m);
    const again = listResources(parseManifest(out, FILE));
    expect((again[1].value as { spec: { template: { metadata: { annotations: object } } } }).spec.template.metadata.annotations).toEqual({ 'example.com/a': 'one' });
    expect((again[2].value as { metadata: { annotations: object } }).metadata.annotations).toEqual({ 'example.com/b': 'two' });
    for (const comment of ['# leading comment of the stream', '# trailing comment', '# a workload', '# flush sequence, as kubectl writes it', '# odd spacing stays']) expect(out).toContain(comment);
    // untouched documents keep their exact text
    expect(out.startsWith(TEXT.slice(0, TEXT.indexOf('---')))).toBe(true);
    expect(out.endsWith(TEXT.slice(TEXT.lastIndexOf('---')))).toBe(true);
    // kubectl's flush sequences stay flush
    expect(out).toMatch(/\n {6}containers:\n {6}- name: web/);
  });

  it('removes an annotation, and the annotations map once it is empty', () => {
    const m = parseManifest(TEXT, FILE);
    const pod = listResources(m)[2];
    setAnnotation(m, pod, ['metadata'], 'k', 'v');
    expect(setAnnotation(m, pod, ['metadata'], 'k', undefined)).toBe(true);
    expect(serializeManifest(m)).not.toContain('annotations');
  });

  it('names the document and line of a YAML error', () => {
    expect(() => parseManifest('a: 1\n---\nb: [1,\n', 'bad.yaml')).toThrow(expect.objectContaining({ code: 'manifest_bad_yaml', location: expect.objectContaining({ file: 'bad.yaml', document: 1 }) }));
  });

  it('formats field paths', () => {
    expect(formatPath(['spec', 'containers', 0, 'env', 2])).toBe('spec.containers[0].env[2]');
    expect(formatPath(['metadata', 'annotations', 'a.b/c'])).toBe('metadata.annotations["a.b/c"]');
  });
});

describe('ConfigMaps and Secrets', () => {
  it('keeps ConfigMap values and only the key names of Secrets', () => {
    const store = new ConfigStore();
    for (const r of listResources(parseManifest(TEXT, FILE))) store.add(r);
    expect(store.configMap('default', 'settings')?.values.get('KEY')).toBe('value');
    expect(store.secret('default', 'creds')?.keys).toEqual(['PASSWORD']);
    expect(JSON.stringify(store.secret('default', 'creds'))).not.toContain('hunter2');
    expect(store.configMap('shop', 'settings')).toBeUndefined();
  });
});

describe('pod templates', () => {
  it('selects policy-bearing objects by kind and runtime class prefix', () => {
    const [cm, deployment, pod, , unknown] = listResources(parseManifest(TEXT, FILE));
    expect(selectPodTemplate(cm, 'kata-cc', 'default')).toBeUndefined();
    expect(selectPodTemplate(unknown, 'kata-cc', 'default')).toBeUndefined();
    const d = selectPodTemplate(deployment, 'kata-cc', 'default');
    expect(d && 'template' in d ? d.template.specPath : d).toBe('spec.template.spec');
    expect(d && 'template' in d ? d.template.namespace : d).toBe('shop');
    expect(selectPodTemplate(pod, 'kata-cc-isolation', 'default')).toEqual({ skipped: expect.stringContaining("runtimeClassName 'kata-cc' does not start with 'kata-cc-isolation'") });
  });
});
