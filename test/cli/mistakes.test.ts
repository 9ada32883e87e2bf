/**
 * User mistakes end with exit 2, a code and a hint (never `error[internal]`, exit 3), and outputs that
 * are not regular files are written through or refused, never replaced. All through the real binary.
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runConfcom } from '../helpers/cli.js';
import { EXAMPLES_DIR, startHarness, type Harness } from '../policy/harness.js';

let h: Harness;
let pod: string;
beforeAll(async () => {
  h = await startHarness();
  pod = join(h.dir, 'pod.yaml');
  copyFileSync(join(EXAMPLES_DIR, 'deployment.yaml'), pod);
});
afterAll(async () => h?.close());

/** The error line (warnings may come before it). */
function firstLine(stderr: string): string {
  return stderr.split('\n').find((l) => l.startsWith('error[')) ?? '';
}

describe('outputs', () => {
  it('a missing output folder is exit 2 naming the folder, with mkdir as the hint', async () => {
    const out = join(h.dir, 'no-such-folder', 'out.yaml');
    const r = await runConfcom(['policy', 'generate', pod, '-o', out, ...h.imageFlags]);
    expect(r.code).toBe(2);
    expect(firstLine(r.stderr)).toBe(`error[output_folder_missing]: cannot write ${out}: the folder ${join(h.dir, 'no-such-folder')} does not exist`);
    expect(r.stderr).toContain('hint: create it first (mkdir -p');
  });

  it('a folder given as output is exit 2', async () => {
    const r = await runConfcom(['policy', 'generate', pod, '-o', h.dir, ...h.imageFlags]);
    expect(r.code).toBe(2);
    expect(firstLine(r.stderr)).toBe(`error[output_is_directory]: cannot write ${h.dir}: it is a folder`);
  });

  it('-o /dev/null writes through the device and leaves it a device (even as root)', async () => {
    const r = await runConfcom(['policy', 'generate', pod, '-o', '/dev/null', ...h.imageFlags]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('--in-place on a symlink writes the target and keeps the link and the 0600 mode', async () => {
    const target = join(h.dir, 'real.yaml');
    const link = join(h.dir, 'link.yaml');
    copyFileSync(pod, target);
    chmodSync(target, 0o600);
    symlinkSync(target, link);
    const r = await runConfcom(['policy', 'generate', link, '--in-place', ...h.imageFlags]);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toContain('io.katacontainers.config.agent.policy: ');
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });
});

describe('inputs', () => {
  it('a YAML alias bomb is exit 2 with its own code', async () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g'].entries()) {
      const prev = ['a', 'b', 'c', 'd', 'e', 'f'][i];
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    lines.push('kind: Pod', 'metadata: {name: x}', 'spec: {containers: [{name: a, image: b, args: *g}]}');
    const bomb = join(h.dir, 'bomb.yaml');
    writeFileSync(bomb, lines.join('\n') + '\n');
    // A harmless document first, so the location must name the bomb's own document index.
    writeFileSync(bomb, 'kind: ConfigMap\nmetadata: {name: c}\n---\n' + lines.join('\n') + '\n');
    for (const args of [['policy', 'hash', bomb], ['policy', 'generate', bomb, '--offline']]) {
      const r = await runConfcom(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(firstLine(r.stderr)).toMatch(/^error\[yaml_alias_bomb\]/);
      expect(r.stderr).toContain(`--> ${bomb}, document 1\n`);
    }
  });

  it('an input that fails with EIO is exit 2 naming the file', async () => {
    const r = await runConfcom(['verity', 'hash', '/proc/self/mem']);
    expect(r.code).toBe(2);
    expect(firstLine(r.stderr)).toBe('error[file_unreadable]: an I/O error occurred reading /proc/self/mem');
  });

  it('an unknown --kind for policy explain is a usage error with a suggestion', async () => {
    const r = await runConfcom(['policy', 'explain', '--policy', pod, '--kind', 'CreateContainr', '--request', pod]);
    expect(r.code).toBe(2);
    expect(firstLine(r.stderr)).toBe("error[usage]: unknown request kind 'CreateContainr'");
    expect(r.stderr).toContain('did you mean CreateContainerRequest?');
  });
});

describe('services', () => {
  let busy: Server;
  let port: number;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    port = (busy.address() as { port: number }).port;
  });
  afterAll(() => busy.close());

  it('a port in use is exit 2 naming the address', async () => {
    const r = await runConfcom(['serve', 'attestation', '--port', String(port)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error[address_in_use]: the address is already in use: 127.0.0.1:${port}`);
    expect(r.stderr).toContain('--port');
  });

  it('a socket path in a missing folder is exit 2 naming the folder', async () => {
    const socket = join(h.dir, 'missing', 'opa.sock');
    const r = await runConfcom(['serve', 'opa', '--socket', socket]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error[socket_folder_missing]: cannot listen on ${socket}: the folder ${join(h.dir, 'missing')} does not exist`);
  });
});

describe('habits', () => {
  it('keeps commander\'s "Did you mean" for typos', async () => {
    const group = await runConfcom(['polcy']);
    expect(group.code).toBe(2);
    expect(group.stderr).toBe("error[usage]: unknown command 'polcy'\n  hint: did you mean policy?\n");
    const sub = await runConfcom(['verity', 'hsah']);
    expect(sub.stderr).toContain('did you mean hash?');
  });

  it('`confcom node` alone prints its help', async () => {
    const r = await runConfcom(['node']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: confcom node/);
  });

  it('warnings are JSON lines under --json', async () => {
    const r = await runConfcom(['--json', 'policy', 'generate', pod, '-o', '/dev/null', ...h.imageFlags]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ level: 'warn' });
    expect(r.stderr).toContain('take their value from a Secret');
  });

  it('NO_COLOR and --no-color keep ANSI escapes out, even on a terminal-less run', async () => {
    const odd = join(h.dir, 'odd2.bin');
    writeFileSync(odd, Buffer.alloc(4096 + 10, 2));
    for (const [args, env] of [[['--no-color'], {}], [[], { NO_COLOR: '1' }]] as const) {
      const r = await runConfcom([...args, 'verity', 'hash', odd], { env: { ...env, FORCE_COLOR: '1' } });
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('warn:');
      expect(r.stderr).not.toContain('\u001b[');
    }
  });

  it('a closed pipe ends quietly, without an EPIPE trace', async () => {
    const big = join(h.dir, 'big');
    mkdirSync(big, { recursive: true });
    const child = spawn(process.execPath, ['--import', 'tsx', `${REPO_ROOT}src/cli/main.ts`, 'rego', 'eval', 'numbers.range(1, 200000)'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|at .*\.ts:\d+/);
    expect(code).toBe(0);
  });
});
