/**
 * Runs the engine's data-file cases, test/rego/cases/**\/*.yaml (kept as regorus keeps its interpreter
 * cases): each case is modules, a rule reference, optional input/data, and what the rule must give.
 *
 *   cases:
 *     - note: what the case shows
 *       modules: [ "package t\np := 1\n" ]
 *       query: data.t.p            # a rule or document reference
 *       input: {...}               # optional
 *       data: {...}                # optional base document
 *       strict: true               # optional: strict builtin errors (OPA's --strict-builtin-errors)
 *       want_result: <value>       # compared as JSON; sets read as sorted arrays
 *       want_json: '<text>'        # or: the exact JSON text (big numbers, key order)
 *       want_undefined: true       # or: the reference has no value
 *       want_error: <substring>    # or: evaluation fails with this text ...
 *       want_error_code: <code>    # ... and/or this OPA error code
 *       want_error_line: <n>       # ... at this line of its file (the check stage's locations)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RegoEngine, serializeJson } from '../../src/rego/index.js';

const ROOT = join(import.meta.dirname, 'cases');
const KEYS = new Set(['note', 'modules', 'query', 'input', 'data', 'strict', 'want_result', 'want_json', 'want_undefined', 'want_error', 'want_error_code', 'want_error_line']);

interface Case {
  note: string;
  modules: string[];
  query: string;
  input?: unknown;
  data?: unknown;
  strict?: boolean;
  want_result?: unknown;
  want_json?: string;
  want_undefined?: boolean;
  want_error?: string;
  want_error_code?: string;
  want_error_line?: number;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? yamlFiles(join(dir, e.name)) : e.name.endsWith('.yaml') ? [join(dir, e.name)] : []))
    .sort();
}

/** Reads one file's cases, refusing unknown keys and cases that expect nothing. */
function readCases(file: string): Case[] {
  const doc = parse(readFileSync(file, 'utf8')) as { cases?: unknown };
  if (!Array.isArray(doc.cases)) throw new Error(`${file}: no "cases" list`);
  return doc.cases.map((raw: Record<string, unknown>, i) => {
    const unknown = Object.keys(raw).filter((k) => !KEYS.has(k));
    if (unknown.length > 0) throw new Error(`${file} case ${i}: unknown keys ${unknown.join(', ')}`);
    const c = raw as unknown as Case;
    if (typeof c.note !== 'string' || !Array.isArray(c.modules) || typeof c.query !== 'string') throw new Error(`${file} case ${i}: needs note, modules and query`);
    const wants = ['want_result', 'want_json', 'want_undefined', 'want_error', 'want_error_code'].filter((k) => k in raw);
    if (wants.length === 0) throw new Error(`${file} case ${i} (${c.note}): expects nothing`);
    return c;
  });
}

function run(c: Case): unknown {
  const engine = new RegoEngine({ strictBuiltinErrors: c.strict === true });
  c.modules.forEach((m, i) => engine.addModule(m, `test-${i}.rego`));
  if (c.data !== undefined) engine.setData(c.data);
  return engine.evalRule(c.query, c.input === undefined ? {} : { input: c.input }).value;
}

const files = yamlFiles(ROOT);

it('finds the case files', () => {
  expect(files.length).toBeGreaterThan(0);
});

for (const file of files) {
  describe(relative(ROOT, file), () => {
    for (const c of readCases(file)) {
      it(c.note, () => {
        if (c.want_error !== undefined || c.want_error_code !== undefined) {
          let error: unknown;
          try {
            run(c);
          } catch (e) {
            error = e;
          }
          expect(error, 'evaluation should fail').toBeInstanceOf(Error);
          if (c.want_error !== undefined) expect((error as Error).message).toContain(c.want_error);
          if (c.want_error_code !== undefined) expect((error as { code?: string }).code).toBe(c.want_error_code);
          if (c.want_error_line !== undefined) expect((error as { location?: { line?: number } }).location?.line).toBe(c.want_error_line);
          return;
        }
        const value = run(c);
        if (c.want_undefined) {
          expect(value).toBeUndefined();
          return;
        }
        expect(value, 'the reference should be defined').toBeDefined();
        const text = serializeJson(value as Parameters<typeof serializeJson>[0]);
        if (c.want_json !== undefined) expect(text).toBe(c.want_json);
        if ('want_result' in c) expect(JSON.parse(text)).toEqual(c.want_result);
      });
    }
  });
}
