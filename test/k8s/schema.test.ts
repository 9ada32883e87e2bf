/** Unknown pod spec fields: a warning naming the field path, never a crash. */
import { describe, expect, it } from 'vitest';
import { checkKnownFields } from '../../src/k8s/schema.js';

describe('known fields', () => {
  it('names unknown fields by path and accepts known ones', () => {
    const spec = {
      runtimeClassName: 'kata-cc',
      containers: [{ name: 'a', image: 'x', securityContxt: {}, env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' }, bogus: 1 } }] }],
      volumes: [{ name: 'v', emptyDir: {} }, { name: 'w', madeUp: {} }],
      futureField: true,
    };
    expect(checkKnownFields(spec, ['spec', 'template', 'spec']).map((w) => w.path)).toEqual([
      'spec.template.spec.containers[0].securityContxt',
      'spec.template.spec.containers[0].env[0].valueFrom.bogus',
      'spec.template.spec.volumes[1].madeUp',
      'spec.template.spec.futureField',
    ]);
  });

  it('does not trip over odd values', () => {
    expect(checkKnownFields({ containers: 'nope', volumes: [null, 3], securityContext: [] }, ['spec'])).toEqual([]);
  });
});
