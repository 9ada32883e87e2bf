/**
 * The start-up bundles (scripts/bundle-deps.mjs): the build replaces the `yaml` and `commander`
 * wrappers with one self-contained ES module each. These tests build them from the real wrappers into
 * a scratch folder and use them, and check that no other module goes around a wrapper (it would load
 * the package a second time, unbundled).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

const WRAPPERS = { yaml: 'core/yaml', commander: 'cli/commander' } as const;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('bundle-deps', () => {
  // Inside the repository, so the bundler finds the packages in node_modules (.tmp-*/ is git-ignored).
  let out: string;
  let run: ReturnType<typeof spawnSync>;
  beforeAll(() => {
    out = mkdtempSync(join(REPO_ROOT, '.tmp-bundle-'));
    for (const wrapper of Object.values(WRAPPERS)) {
      const js = ts.transpileModule(readFileSync(join(REPO_ROOT, 'src', `${wrapper}.ts`), 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
      mkdirSync(join(out, wrapper, '..'), { recursive: true });
      writeFileSync(join(out, `${wrapper}.js`), js);
      writeFileSync(join(out, `${wrapper}.js.map`), '{}');
    }
    writeFileSync(join(out, 'package.json'), '{"type":"module"}');
    run = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'bundle-deps.mjs'), out], { cwd: REPO_ROOT, encoding: 'utf8' });
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('replaces each wrapper with one module that imports only Node built-ins', () => {
    expect(run.status, String(run.stderr)).toBe(0);
    for (const wrapper of Object.values(WRAPPERS)) {
      const text = readFileSync(join(out, `${wrapper}.js`), 'utf8');
      // Static imports start a line in esbuild's output; requires and dynamic imports take one string.
      const specifiers = [...text.matchAll(/^import\s[^;]*?from\s*["']([^"']+)["']|\brequire\(["']([^"']+)["']\)|\bimport\(["']([^"']+)["']\)/gm)].map((m) => m[1] ?? m[2] ?? m[3]);
      expect(specifiers.length).toBeGreaterThan(0);
      for (const s of specifiers) expect(s, `${wrapper}.js loads ${s}`).toMatch(/^node:|^(process|buffer|events|child_process|path|fs)$/);
      // tsc's source map describes the re-export, so it must not be left next to the bundle.
      expect(() => statSync(join(out, `${wrapper}.js.map`))).toThrow();
    }
  });

  it('the bundled yaml parses, composes and writes as the package does', async () => {
    const yaml = (await import(pathToFileURL(join(out, `${WRAPPERS.yaml}.js`)).href)) as typeof import('../../src/core/yaml.js');
    expect(yaml.parse('a: [1, two]\nb: {c: null}\n')).toEqual({ a: [1, 'two'], b: { c: null } });
    expect(yaml.stringify({ k: 'v', n: [1] })).toBe('k: v\nn:\n  - 1\n');
    expect(yaml.parseAllDocuments('a: 1\n---\nb: 2\n').map((d) => d.toJS() as unknown)).toEqual([{ a: 1 }, { b: 2 }]);
    expect(() => yaml.parse('a: [')).toThrow(yaml.YAMLParseError);
    const docs = [...new yaml.Composer().compose(new yaml.Parser().parse('m: {x: 1}\n'))];
    expect(yaml.isMap(docs[0].get('m'))).toBe(true);
  });

  it('the bundled commander parses a command line and reports errors as CommanderError', async () => {
    const { Command, CommanderError, Option } = (await import(pathToFileURL(join(out, `${WRAPPERS.commander}.js`)).href)) as typeof import('../../src/cli/commander.js');
    const seen: unknown[] = [];
    const program = new Command('t').exitOverride().configureOutput({ writeErr: () => undefined, outputError: () => undefined });
    program.command('go').addOption(new Option('--mode <m>').choices(['a', 'b'])).action((flags: { mode: string }) => void seen.push(flags.mode));
    await program.parseAsync(['go', '--mode', 'b'], { from: 'user' });
    expect(seen).toEqual(['b']);
    await expect(program.parseAsync(['go', '--mode', 'c'], { from: 'user' })).rejects.toBeInstanceOf(CommanderError);
  });

  it('no source module imports yaml or commander around its wrapper', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles(join(REPO_ROOT, 'src'))) {
      const rel = relative(join(REPO_ROOT, 'src'), file).replace(/\.ts$/, '');
      const text = readFileSync(file, 'utf8');
      for (const [pkg, wrapper] of Object.entries(WRAPPERS)) {
        if (rel === wrapper) continue;
        if (new RegExp(`(?:from\\s*|import\\()\\s*'${pkg}'`).test(text)) offenders.push(`${rel}.ts imports '${pkg}'`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
