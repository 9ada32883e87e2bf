import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runConfcom } from '../helpers/cli.js';

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
    const out = JSON.parse(r.stdout) as { hostData: string; layerPins: string[]; resource: string; requests: { total: number; asExpected: number }; steps: { step: string; ok: boolean; detail: string; field?: string }[] };
    expect(out.hostData).toMatch(/^[0-9a-f]{64}$/);
    expect(out.layerPins).toHaveLength(2);
    expect(out.resource).toBe('Deployment/app');
    expect(out.requests.total).toBeGreaterThan(0);
    expect(out.requests.asExpected).toBe(out.requests.total);
    expect(out.steps.filter((s) => !s.ok)).toEqual([]);
    expect(out.steps.find((s) => s.step.includes('injected env'))?.detail).toMatch(/^OCI\.Process\.Env\[\d+\] "LD_PRELOAD=\/tmp\/evil\.so" not allowed/);
  });

  it('prints the demo as one line per step plus a detail line, from any working directory', async () => {
    // runConfcom's bare `--import tsx` resolves from the cwd, so name tsx's loader by its full URL here.
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const r = spawnSync(process.execPath, ['--import', tsx, join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'demo'], { cwd: tmpdir(), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const steps = lines.filter((l) => /^(ok {2}|FAIL) /.test(l));
    expect(steps.length).toBeGreaterThanOrEqual(10);
    expect(steps.every((l) => l.startsWith('ok  '))).toBe(true);
    for (const step of steps) expect(lines[lines.indexOf(step) + 1]).toMatch(/^ {7}\S/);
    expect(r.stdout).toMatch(/^ {7}\d+ requests: (\d+) as expected$/m);
  });
});

describe('kubectl plugin', () => {
  it('runs as kubectl-confcom (kubectl confcom ...) and names itself so in help', async () => {
    const { mkdtempSync, rmSync, symlinkSync } = await import('node:fs');
    const dir = mkdtempSync(join(tmpdir(), 'confcom-kubectl-'));
    try {
      const plugin = join(dir, 'kubectl-confcom');
      symlinkSync(join(REPO_ROOT, 'src', 'cli', 'main.ts'), plugin);
      const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
      const r = spawnSync(process.execPath, ['--import', tsx, plugin, 'verity', '--help'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^Usage: kubectl confcom verity/);
      const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
      expect(pkg.bin['kubectl-confcom']).toBe(pkg.bin.confcom);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
