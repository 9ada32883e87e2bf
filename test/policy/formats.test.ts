/** Output formats and settings drop-ins. */
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { FORMATS, decodePolicy, encodePolicy, initdataToml, policiesInAnnotations, policyFromToml } from '../../src/policy/formats/index.js';
import { loadSettings } from '../../src/policy/settings.js';
import { parsePolicy, renderPolicy, stableJson } from '../../src/policy/render.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('formats', () => {
  const policy = 'package agent_policy\n\ndefault X := true\n';
  it('aks: base64 of the text, HOST_DATA = SHA-256 of the text', () => {
    const e = encodePolicy(policy, 'aks');
    expect(e.annotation).toBe('io.katacontainers.config.agent.policy');
    expect(Buffer.from(e.value, 'base64').toString()).toBe(policy);
    expect(e.hostData).toBe(sha(policy));
    expect(decodePolicy(e.value, 'aks', 'x')).toEqual({ policy, hostData: e.hostData });
  });

  it('initdata: sorted TOML, gzip + base64, HOST_DATA = SHA-256 of the TOML bytes', () => {
    const e = encodePolicy(policy, 'initdata');
    expect(e.annotation).toBe('io.katacontainers.config.hypervisor.cc_init_data');
    const toml = gunzipSync(Buffer.from(e.value, 'base64')).toString();
    expect(toml).toBe(`algorithm = "sha256"\nversion = "0.1.0"\n\n[data]\n"policy.rego" = '''\n${policy}'''\n`);
    expect(e.hostData).toBe(sha(toml));
    expect(e.hostData).toHaveLength(64);
    expect(decodePolicy(e.value, 'initdata', 'x')).toEqual({ policy, hostData: e.hostData });
    expect(encodePolicy(policy, 'initdata').value).toBe(e.value);
  });

  it('initdata falls back to an escaped string when the text cannot be a literal', () => {
    const odd = "a ''' b\u0001\n\"q\"\\";
    const toml = initdataToml(odd);
    expect(toml).toContain('"policy.rego" = "a \'\'\' b\\u0001\\n\\"q\\"\\\\"');
    expect(policyFromToml(toml, 'x')).toBe(odd);
  });
});

describe('format registry', () => {
  const policy = 'package agent_policy\n\ndefault X := true\n';
  it('every format round-trips through its own annotation, and the table finds it', () => {
    expect(FORMATS.map((f) => f.name)).toEqual(['aks', 'initdata']);
    for (const f of FORMATS) {
      const e = f.encode(policy);
      expect(e.annotation).toBe(f.annotation);
      expect(e.hostData).toBe(sha(f.document(policy)));
      expect(policiesInAnnotations({ other: 'x', [f.annotation]: e.value }, 'x')).toEqual([{ format: f.name, policy, hostData: e.hostData }]);
    }
  });

  it('initdata written by another tool reads: more keys after policy.rego, other quoting, other tables', () => {
    const toml = `version = "0.1.0"\nalgorithm = "sha384"\n\n[data]\n"policy.rego" = """\n${policy}"""\n"aa.toml" = '''\n[token_configs]\n'''\n\n[extra]\nkey = 1\n`;
    expect(policyFromToml(toml, 'x')).toBe(policy);
    const value = gzipSync(Buffer.from(toml)).toString('base64');
    expect(decodePolicy(value, 'initdata', 'x')).toEqual({ policy, hostData: sha(toml) });
    expect(() => policyFromToml('[data]\n"policy.rego" = 1\n', 'x')).toThrow(expect.objectContaining({ code: 'initdata_invalid' }));
    expect(() => policyFromToml('[data\n', 'x')).toThrow(expect.objectContaining({ code: 'initdata_invalid' }));
  });
});

describe('policy text', () => {
  it('sorts keys at every level and round-trips', () => {
    expect(stableJson({ b: [{ d: 1, c: [] }], a: {} })).toBe('{\n  "a": {},\n  "b": [\n    {\n      "c": [],\n      "d": 1\n    }\n  ]\n}');
    const text = renderPolicy({ z: 1, a: ['x'] }, 'package p\n');
    expect(text).toBe('package p\n\npolicy_data := {\n  "a": [\n    "x"\n  ],\n  "z": 1\n}\n');
    expect(parsePolicy(text, 'x')).toEqual({ rules: 'package p\n', data: { z: 1, a: ['x'] } });
  });
});

describe('settings', () => {
  it('applies JSON Patch drop-ins in name order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'confcom-settings-'));
    try {
      await writeFile(join(dir, '20-logs.json'), JSON.stringify([{ op: 'replace', path: '/logs/allow_read', value: true }, { op: 'replace', path: '/pause_image', value: 'second' }]));
      await writeFile(join(dir, '10-pause.json'), JSON.stringify([{ op: 'replace', path: '/pause_image', value: 'first' }]));
      await writeFile(join(dir, 'README.txt'), 'not a drop-in');
      const s = await loadSettings(dir);
      expect(s.logs.allow_read).toBe(true);
      expect(s.pause_image).toBe('second');
      await writeFile(join(dir, '30-bad.json'), JSON.stringify([{ op: 'replace', path: '/logs/allow_read', value: 'yes' }]));
      await expect(loadSettings(dir)).rejects.toMatchObject({ code: 'settings_invalid', location: { file: join(dir, '30-bad.json') } });
      await writeFile(join(dir, '30-bad.json'), JSON.stringify([{ op: 'replace', path: '/no/such', value: 1 }]));
      await expect(loadSettings(dir)).rejects.toMatchObject({ code: 'settings_bad_patch' });
      // One file works as well as a folder.
      expect((await loadSettings(join(dir, '20-logs.json'))).pause_image).toBe('second');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
