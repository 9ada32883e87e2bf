/**
 * Findings of a QA pass over the README and docs commands, each through the real binary: user
 * mistakes are exit 2 with a hint, and replay/explain report what they decided without overclaiming.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT as REPO, runConfcom } from '../helpers/cli.js';

let dir: string;
let requests: string[];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'confcom-qa-'));
  const demo = await runConfcom(['demo', '--out', join(dir, 'demo')]);
  expect(demo.code, demo.stderr).toBe(0);
  const sim = await runConfcom(['policy', 'simulate', join(dir, 'demo', 'app.yaml'), '--image-source', `oci-layout:${join(dir, 'demo', 'layout')}`]);
  expect(sim.code, sim.stderr).toBe(0);
  requests = sim.stdout.trim().split('\n');
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const policy = () => join(dir, 'demo', 'app.yaml');
const errorLine = (stderr: string) => stderr.split('\n').find((l) => l.startsWith('error[')) ?? '';

describe('demo --out', () => {
  it('an existing file is exit 2 with a hint, not error[internal]', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = await runConfcom(['demo', '--out', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(errorLine(r.stderr)).toMatch(/^error\[output_not_folder\]: .*a-file.*not a folder/);
    expect(r.stderr).toContain('hint:');
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('a missing parent folder is refused as -o refuses it, and nothing is created', async () => {
    const out = join(dir, 'no-such', 'deeper', 'x');
    const r = await runConfcom(['demo', '--out', out]);
    expect(r.code, r.stderr).toBe(2);
    expect(errorLine(r.stderr)).toMatch(/^error\[output_folder_missing\]: .*the folder .*deeper does not exist/);
    expect(r.stderr).toContain('mkdir -p');
    expect(existsSync(join(dir, 'no-such'))).toBe(false);
  });
});

describe('policy replay', () => {
  it('a line without "expect" is reported as having no expectation, not as expected', async () => {
    const file = join(dir, 'no-expect.jsonl');
    const bare = requests.map((l) => {
      const { kind, request } = JSON.parse(l) as { kind: string; request: unknown };
      return JSON.stringify({ kind, request });
    });
    writeFileSync(file, bare.join('\n') + '\n');
    const r = await runConfcom(['policy', 'replay', '--policy', policy(), '--requests', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${bare.length} requests: 0 as expected, 0 differ, ${bare.length} with no expectation`);
    expect(r.stdout).toMatch(/CreateContainerRequest allowed {3}\(no expect\)/);
  });

  it('an unknown kind is exit 2 naming the line', async () => {
    const file = join(dir, 'bad-kind.jsonl');
    writeFileSync(file, `${requests[0]}\n{"kind": "Nope", "request": {}}\n`);
    const r = await runConfcom(['policy', 'replay', '--policy', policy(), '--requests', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(errorLine(r.stderr)).toMatch(/^error\[replay_unknown_kind\]: .*line 2: unknown request kind 'Nope'/);
  });
});

describe('policy explain', () => {
  const exec = () => requests.find((l) => l.includes('"ExecProcessRequest"')) as string;
  const tampered = () => {
    const line = JSON.parse(exec()) as { kind: string; request: { process: { Args: string[] } } };
    line.request.process.Args = ['/bin/sh', '-c', 'cat /etc/shadow'];
    return line;
  };

  it('a replay line as --request needs no --kind; no printed reason leaves no empty "blocked by policy: "', async () => {
    const file = join(dir, 'line.json');
    writeFileSync(file, JSON.stringify(tampered()));
    const r = await runConfcom(['policy', 'explain', '--policy', policy(), '--request', file]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^ExecProcessRequest: DENIED/);
    expect(errorLine(r.stderr)).not.toMatch(/blocked by policy: *$/);
    // No state: the denial says so and names --after.
    expect(r.stdout).toContain('data.pstate.containers[input.container_id]');
    expect(r.stderr).toMatch(/hint: .*data\.pstate.*--after/);
  });

  it('a plain request with neither --kind nor a replay line is a usage error', async () => {
    const file = join(dir, 'plain.json');
    writeFileSync(file, JSON.stringify(tampered().request));
    const r = await runConfcom(['policy', 'explain', '--policy', policy(), '--request', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(errorLine(r.stderr)).toMatch(/--kind/);
  });

  it('--after replays the earlier requests, so the exec is checked against its container', async () => {
    const file = join(dir, 'exec.json');
    writeFileSync(file, JSON.stringify(tampered().request));
    const before = join(dir, 'before.jsonl');
    writeFileSync(before, requests.slice(0, requests.indexOf(exec())).join('\n') + '\n');
    const r = await runConfcom(['policy', 'explain', '--policy', policy(), '--kind', 'ExecProcessRequest', '--request', file, '--after', before]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/process\.Args \["\/bin\/sh","-c","cat \/etc\/shadow"\] not allowed for container "app"/);
    expect(r.stderr).not.toContain('--after');
  });
});

describe('attest verify', () => {
  const fixtures = join(REPO, 'test', 'fixtures', 'attest', 'tdx-dcap-qvl');
  const hex = join(fixtures, 'tdx-quote.hex');
  const collateral = join(fixtures, 'tdx_quote_collateral.json');
  const at = ['--at', '2025-03-20T00:00:00Z'];

  it('reads 0x-prefixed hex evidence (dcap-qvl sample form); without CRLs the hint names --allow-missing-crls', async () => {
    expect(readFileSync(hex, 'utf8').startsWith('0x')).toBe(true);
    const strict = await runConfcom(['attest', 'verify', '--evidence', hex, '--collateral', collateral, ...at]);
    expect(strict.code, strict.stderr).toBe(2);
    expect(errorLine(strict.stderr)).toMatch(/^error\[sgx_collateral_malformed\]: .*pck_crl/);
    expect(strict.stderr).toMatch(/hint: .*--allow-missing-crls/);
    // The quote was read: with the flag it reaches its TCB judgement.
    const judged = await runConfcom(['attest', 'verify', '--evidence', hex, '--collateral', collateral, ...at, '--allow-missing-crls']);
    expect(judged.code, judged.stderr).toBe(1);
    expect(errorLine(judged.stderr)).toMatch(/^error\[tdx_tcb_unrecognized\]/);
  });

  it('stays strict: 0x only at the start, and the size of hex text is given in characters', async () => {
    const inner = join(dir, 'inner.hex');
    writeFileSync(inner, `0000 0x${readFileSync(hex, 'utf8').trim().slice(2)}`);
    const r = await runConfcom(['attest', 'verify', '--evidence', inner, '--collateral', collateral]);
    expect(r.code).toBe(2);
    expect(errorLine(r.stderr)).toMatch(/^error\[evidence_unrecognized\]: /);
    const short = join(dir, 'short.hex');
    writeFileSync(short, '0x0000\n');
    const s = await runConfcom(['attest', 'verify', '--evidence', short]);
    expect(s.code).toBe(2);
    expect(errorLine(s.stderr)).toMatch(/evidence of 7 characters of hex text \(2 bytes\) is none of/);
  });

  it('--allow-tcb help lists the statuses its error lists', async () => {
    const help = await runConfcom(['attest', 'verify', '--help']);
    const bad = await runConfcom(['attest', 'verify', '--evidence', hex, '--allow-tcb', 'nope']);
    expect(bad.code).toBe(2);
    const listed = /use some of: (.*)/.exec(bad.stderr)?.[1].split(', ') ?? [];
    expect(listed.length).toBeGreaterThan(3);
    const flat = help.stdout.replace(/\s+/g, ' ');
    for (const name of listed) expect(flat).toContain(name);
  });
});

describe('guest get-resource', () => {
  it('without --kbs names --kbs first, before looking for a TEE', async () => {
    const r = await runConfcom(['guest', 'get-resource', 'default/key/app']);
    expect(r.code).toBe(2);
    expect(errorLine(r.stderr)).toMatch(/--kbs URL is required/);
    expect(r.stderr).not.toContain('TEE interface');
  });

  it('a bad resource path is exit 2', async () => {
    const r = await runConfcom(['guest', 'get-resource', '--kbs', 'http://127.0.0.1:1', 'a/b/c/d']);
    expect(r.code).toBe(2);
    expect(errorLine(r.stderr)).toMatch(/^error\[resource_path_invalid\]: resource path 'a\/b\/c\/d'/);
  });

  it('an unreachable KBS shows the cause (ECONNREFUSED, or fetch refusing the port), not "(TypeError)"', async () => {
    const refused = await runConfcom(['guest', 'get-resource', '--kbs', 'http://127.0.0.1:9', '--evidence', 'simulated', '--retries', '0', 'default/key/app']);
    expect(refused.code).toBe(1);
    expect(errorLine(refused.stderr)).toMatch(/peer_unreachable.*\(bad port/);
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((done) => server.close(() => done()));
    const closed = await runConfcom(['guest', 'get-resource', '--kbs', `http://127.0.0.1:${port}`, '--evidence', 'simulated', '--retries', '0', 'default/key/app']);
    expect(closed.code).toBe(1);
    expect(errorLine(closed.stderr)).toMatch(/peer_unreachable.*\(ECONNREFUSED\)/);
  });
});
