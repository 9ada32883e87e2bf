/**
 * Every command shown in docs/ runs: each page's ```sh lines become one bash script, run in order in a
 * fresh folder with `confcom` being this checkout's CLI, each line's exit code checked (0, or the
 * `# expect-exit: N` it carries). Lines ending in `# not-run: <why>` (a cluster, a registry, SGX
 * hardware) are skipped, and must say why. Fixed ports in the pages (8080, 8006) are swapped for free
 * loopback ports so runs never collide. Background jobs a page starts are killed when it ends.
 * The command reference must be what the CLI's help says now.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

const DOCS = join(REPO_ROOT, 'docs');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

interface DocCommand {
  line: number;
  text: string;
  notRun?: string;
  expectExit: number;
}

function commands(markdown: string): DocCommand[] {
  const out: DocCommand[] = [];
  let inSh = false;
  markdown.split('\n').forEach((raw, i) => {
    if (/^```sh\s*$/.test(raw)) return void (inSh = true);
    if (/^```/.test(raw)) return void (inSh = false);
    if (!inSh || raw.trim() === '') return;
    const notRun = /#\s*not-run:\s*(.*)$/.exec(raw);
    const expectExit = /#\s*expect-exit:\s*(\d+)\s*$/.exec(raw);
    const text = raw.replace(/\s+#\s*(not-run|expect-exit):.*$/, '').trim();
    out.push({ line: i + 1, text, notRun: notRun ? notRun[1].trim() : undefined, expectExit: expectExit ? Number(expectExit[1]) : 0 });
  });
  return out;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function script(cmds: DocCommand[], page: string): Promise<string> {
  const ports = new Map([[8080, await freePort()], [8006, await freePort()]]);
  const lines = [
    'set -u -o pipefail',
    `confcom() { node --import ${quote(TSX)} ${quote(join(REPO_ROOT, 'src/cli/main.ts'))} "$@"; }`,
    "trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT",
  ];
  for (const c of cmds.filter((c) => c.notRun === undefined)) {
    let text = c.text;
    for (const [from, to] of ports) text = text.replaceAll(String(from), String(to));
    if (text.endsWith('&')) {
      // Started without the shell function, so $! and `jobs -p` name the node process itself and the trap stops it.
      lines.push(text.replace(/^confcom /, `node --import ${quote(TSX)} ${quote(join(REPO_ROOT, 'src/cli/main.ts'))} `));
      continue;
    }
    lines.push(`echo ${quote(`$ ${c.text}`)}`);
    lines.push(text);
    lines.push(`rc=$?; if [ "$rc" -ne ${c.expectExit} ]; then echo ${quote(`${page}:${c.line}: exit `)}"$rc"${quote(` (expected ${c.expectExit}): ${c.text}`)} >&2; exit 1; fi`);
  }
  return lines.join('\n') + '\n';
}

const pages = (await readdir(DOCS)).filter((f) => f.endsWith('.md') && f !== 'reference.md').sort();

describe('docs', () => {
  it('has the pages the issue asks for, each with shell commands', async () => {
    for (const page of ['quick-start.md', 'aks-confidential-containers.md', 'policy-checks-in-ci.md', 'debug-a-blocked-request.md', 'sgx-nodes.md', 'attestation-service.md', 'reference.md']) expect(pages.concat('reference.md')).toContain(page);
    for (const page of pages.filter((p) => p !== 'README.md')) expect(commands(await readFile(join(DOCS, page), 'utf8')).length, page).toBeGreaterThan(0);
  });

  it('marks every command it does not run, with a reason', async () => {
    for (const page of pages) {
      for (const c of commands(await readFile(join(DOCS, page), 'utf8'))) {
        if (c.notRun !== undefined) expect(c.notRun.length, `${page}:${c.line}`).toBeGreaterThan(3);
        else expect(c.text, `${page}:${c.line} runs something other than confcom and shell tools`).not.toMatch(/^(kubectl|docker|npm) /);
      }
    }
  });

  for (const page of pages) {
    it(`runs the commands of ${page}`, async () => {
      const cmds = commands(await readFile(join(DOCS, page), 'utf8'));
      if (cmds.every((c) => c.notRun !== undefined)) return;
      const dir = await mkdtemp(join(tmpdir(), 'confcom-docs-'));
      try {
        await writeFile(join(dir, 'run.sh'), await script(cmds, page));
        const r = spawnSync('bash', ['run.sh'], { cwd: dir, encoding: 'utf8', timeout: 150_000, env: { ...process.env, NO_COLOR: '1' } });
        expect(r.status, `${r.stderr}\n${r.stdout.slice(-2000)}`).toBe(0);
        if (page === 'attestation-service.md') expect(r.stdout).toMatch(/^400$/m);
        if (page === 'quick-start.md') expect(r.stdout).toMatch(/^default\/key\/demo-secret$/m);
        if (page === 'debug-a-blocked-request.md') expect(r.stdout).toContain('process.Args');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }, 180_000);
  }

  it('the command reference is what the CLI help says now', () => {
    const r = spawnSync(process.execPath, ['--import', TSX, 'scripts/command-reference.mjs', '--check'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });
});
