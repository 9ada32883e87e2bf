/** Manifest streams: documents, List items, annotations written back with comments and untouched documents kept. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';
import { formatPath, listResources, parseManifest, serializeManifest, setAnnotation } from '../../src/k8s/manifest.js';
import { ConfigStore } from '../../src/k8s/configs.js';
import { CST, Parser } from '../../src/core/yaml.js';
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

  it('cuts each document source where the YAML library prints its token back (BOM, directives, markers, comments, CRLF)', () => {
    const streams = [
      '\uFEFFa: 1\n',
      '%YAML 1.2\n---\na: 1\n...\n# between\n---\nb: 2\n# trailer\n',
      '# lead\n---\n---\nc: 3',
      'a: 1\r\n---\r\nb: [1,\r\n  2]\r\n',
      '--- |\n  text\n--- !!map\nk: v\n...\n...\n',
    ];
    for (const text of streams) {
      const tokens = [...new Parser().parse(text)];
      const printed = tokens.map((t) => CST.stringify(t)).join('');
      const m = parseManifest(text, 'streams.yaml');
      expect(m.documents.map((d) => d.source).join('') + m.trailer).toBe(printed);
      expect(serializeManifest(m)).toBe(text);
      // Each document's source is what the library prints for its own tokens (plus the comments before it).
      for (const d of m.documents) expect(d.source.length).toBeGreaterThan(0);
    }
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

  describe('a long annotation written as a one-line edit of the document', () => {
    const VALUE = 'QUJD'.repeat(300) + 'ZA==';
    // Long values are written single-quoted (yaml reads that form far faster than a plain scalar).
    const QUOTED = `'${VALUE}'`;
    const KEY = 'io.katacontainers.config.agent.policy';
    const annotate = (text: string, metadataPath: (string | number)[], value = VALUE) => {
      const m = parseManifest(text, 'edit.yaml');
      expect(setAnnotation(m, listResources(m)[0], metadataPath, KEY, value)).toBe(true);
      const out = serializeManifest(m);
      const read = listResources(parseManifest(out, 'edit.yaml'))[0].value;
      // The text says what the document's JSON view says, whichever way it was written.
      expect(read).toEqual(listResources(m)[0].value);
      return out;
    };

    it('adds the entry after the last line of an annotations mapping, comments and spacing kept', () => {
      const text = 'kind: Pod\nmetadata:\n    name: p   # the name\n    annotations:\n        a: "x"  # note\nspec:  {containers: []}\n';
      expect(annotate(text, ['metadata'])).toBe(text.replace('# note\n', `# note\n        ${KEY}: ${QUOTED}\n`));
    });

    it('adds `annotations:` after the metadata mapping, below nested block collections and flow values', () => {
      const text = 'kind: Deployment\nspec:\n  template:\n    metadata:\n      labels:\n        app: web\n        tiers: [a, b]\n    spec: {}\n---\nkind: Pod\n';
      const at = text.indexOf('    spec: {}');
      expect(annotate(text, ['spec', 'template', 'metadata'])).toBe(`${text.slice(0, at)}      annotations:\n        ${KEY}: ${QUOTED}\n${text.slice(at)}`);
    });

    it('replaces an existing value in place, quoted or not', () => {
      const text = `kind: Pod\nmetadata:\n  annotations:\n    ${KEY}: 'old'\n    b: c\n`;
      expect(annotate(text, ['metadata'])).toBe(text.replace("'old'", QUOTED));
    });

    it('keeps CRLF line ends', () => {
      const text = 'kind: Pod\r\nmetadata:\r\n  name: p\r\nspec: {}\r\n';
      expect(annotate(text, ['metadata'])).toBe(`kind: Pod\r\nmetadata:\r\n  name: p\r\n  annotations:\r\n    ${KEY}: ${QUOTED}\r\nspec: {}\r\n`);
    });

    it('leaves flow mappings, block scalars, anchors and short values to the YAML writer', () => {
      for (const text of [
        'kind: Pod\nmetadata: {name: p}\n',
        'kind: Pod\nmetadata:\n  annotations: {a: b}\n',
        'kind: Pod\nmetadata:\n  annotations:\n    a: |\n      text\n',
        `kind: Pod\nmetadata:\n  annotations:\n    ${KEY}: &v old\n`,
        'kind: Pod\nmetadata:\n  name:\n',
      ]) {
        const out = annotate(text, ['metadata']);
        expect(out).toContain(QUOTED);
      }
      expect(annotate('kind: Pod\nmetadata:\n  name: p\n', ['metadata'], 'short')).toBe(`kind: Pod\nmetadata:\n  name: p\n  annotations:\n    ${KEY}: short\n`);
    });

    it('a second change to the document re-writes it with both', () => {
      const m = parseManifest('kind: Pod\nmetadata:\n  name: p\n', 'edit.yaml');
      const [pod] = listResources(m);
      setAnnotation(m, pod, ['metadata'], KEY, VALUE);
      setAnnotation(m, pod, ['metadata'], 'other', VALUE);
      expect(listResources(parseManifest(serializeManifest(m), 'edit.yaml'))[0].value).toEqual({ kind: 'Pod', metadata: { name: 'p', annotations: { [KEY]: VALUE, other: VALUE } } });
    });
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

  it("says a skipped pod has no runtimeClassName instead of quoting ''", () => {
    const [resource] = listResources(parseManifest('kind: Pod\nmetadata: {name: plain}\nspec: {containers: [{name: a, image: b}]}\n', FILE));
    expect(selectPodTemplate(resource, ['kata-cc*'], 'default')).toEqual({ skipped: "Pod/plain: has no runtimeClassName, which is not one of 'kata-cc*'" });
  });
});
