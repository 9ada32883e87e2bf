import { describe, expect, it } from 'vitest';
import { runConfcom } from '../helpers/cli.js';

describe('confcom CLI', () => {
  it('lists every command group in --help', async () => {
    const r = await runConfcom(['--help']);
    expect(r.code).toBe(0);
    for (const group of ['policy', 'rego', 'verity', 'attest', 'serve', 'node', 'demo']) {
      expect(r.stdout).toMatch(new RegExp(`^\\s+${group}\\b`, 'm'));
    }
  });

  it('exits 2 with a one-line error on an unknown flag', async () => {
    const r = await runConfcom(['--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe("error[usage]: unknown option '--no-such-flag'");
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
  });

  it('exits 2 naming a missing file', async () => {
    const r = await runConfcom(['verity', 'hash', '/definitely/not/here.bin']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('error[file_not_found]: file not found: /definitely/not/here.bin');
  });

  it('reports errors as JSON with --json', async () => {
    const r = await runConfcom(['--json', 'verity', 'hash', '/definitely/not/here.bin']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr)).toMatchObject({ error: { code: 'file_not_found' } });
  });

  it('runs the end-to-end demo on built-in defaults, every step succeeding', async () => {
    const r = await runConfcom(['--json', 'demo']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { hostData: string; layerPins: string[]; steps: { step: string; ok: boolean; detail: string }[] };
    expect(out.hostData).toMatch(/^[0-9a-f]{64}$/);
    expect(out.layerPins).toHaveLength(2);
    expect(out.steps.filter((s) => !s.ok)).toEqual([]);
    expect(out.steps.find((s) => s.step.includes('injected env'))?.detail).toMatch(/^OCI\.Process\.Env\[2\]/);
  });
});
