/**
 * Runs OPA-format conformance cases (../shared/opa-conformance): a fresh engine per case; load data,
 * input and modules; evaluate the query; compare the rows as a set with `want_result`, or the error's
 * code and message text with `want_error_code` / `want_error`, as OPA's own runner judges them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RegoEngine } from './index.js';
import { RegoError } from './errors.js';
import { parseJsonText } from './json.js';
import { parseQuery } from './parser.js';
import { compare, RObject, RSet, serializeJson, type Value } from './value.js';

export interface ConformanceCase {
  note: string;
  query: string;
  modules?: string[];
  data?: unknown;
  input?: unknown;
  input_term?: string;
  want_result?: unknown[];
  want_error_code?: string;
  want_error?: string;
  sort_bindings?: boolean;
  strict_error?: boolean;
  ignore?: boolean;
}

export type CaseStatus = 'passed' | 'failed' | 'skipped';

export interface CaseResult {
  folder: string;
  file: string;
  /** Position of the case in its file (notes repeat, so the position identifies a case). */
  index: number;
  note: string;
  status: CaseStatus;
  reason?: string;
}

export interface SkipEntry {
  folder: string;
  reason: string;
}

/** Results compare sets as sorted arrays (that is how OPA's JSON output shows them). */
function normalize(v: Value, sortArrays: boolean): Value {
  if (v instanceof RSet) {
    const items = v.sorted().map((x) => normalize(x, sortArrays));
    return sortArrays ? items.sort(compare) : items;
  }
  if (Array.isArray(v)) {
    const items = v.map((x) => normalize(x, sortArrays));
    return sortArrays ? [...items].sort(compare) : items;
  }
  if (v instanceof RObject) return new RObject([...v.entries()].map(([k, x]) => [k, normalize(x, sortArrays)] as [Value, Value]));
  return v;
}

function rowsKey(rows: Value[]): string[] {
  return rows.map((r) => serializeJson(r)).sort();
}

/** Parses a case's raw JSON text again with exact numbers, so big integers in expectations survive. */
function exactCases(text: string): Value[] {
  const doc = parseJsonText(text) as RObject;
  return (doc.get('cases') as Value[]) ?? [];
}

function evaluateInputTerm(term: string): Value | undefined {
  const engine = new RegoEngine();
  const rows = engine.evalQuery(`__input__ = ${term}`).value;
  void parseQuery;
  return rows[0]?.__input__;
}

export function runCase(c: ConformanceCase, exact: RObject | undefined): { status: CaseStatus; reason?: string } {
  if (c.ignore) return { status: 'skipped', reason: 'marked ignore upstream' };
  try {
    const engine = new RegoEngine({ strictBuiltinErrors: c.strict_error === true, limits: { timeoutMs: 10_000 } });
    (c.modules ?? []).forEach((m, i) => engine.addModule(m, `test-${i}.rego`, { syntax: 'v1' }));
    engine.setData(exact?.get('data') ?? c.data ?? {});
    let input: unknown = exact?.get('input') ?? c.input;
    if (c.input_term !== undefined) input = evaluateInputTerm(c.input_term);
    const rows = engine.evalQuery(c.query, input === undefined ? {} : { input }).value;
    if (c.want_error_code || c.want_error) return { status: 'failed', reason: `expected error ${c.want_error_code ?? ''} ${c.want_error ?? ''}, got ${rows.length} rows` };
    const want = (exact?.get('want_result') as Value[] | undefined) ?? [];
    if (c.want_result === undefined) return rows.length === 0 ? { status: 'passed' } : { status: 'failed', reason: `expected no result, got ${rows.length} rows` };
    const got = rows.map((r) => normalize(RObject.fromRecord(r), c.sort_bindings === true));
    const wanted = want.map((w) => normalize(w, c.sort_bindings === true));
    const a = rowsKey(got);
    const b = rowsKey(wanted);
    if (a.length === b.length && a.every((x, i) => x === b[i])) return { status: 'passed' };
    return { status: 'failed', reason: `got ${a.join(' ').slice(0, 300)} want ${b.join(' ').slice(0, 300)}` };
  } catch (error) {
    if (!(error instanceof RegoError)) return { status: 'failed', reason: `crash: ${(error as Error).stack?.split('\n').slice(0, 2).join(' ')}` };
    if (!c.want_error_code && !c.want_error) return { status: 'failed', reason: `unexpected ${error.code}: ${error.message}` };
    if (c.want_error_code && c.want_error_code !== error.code) return { status: 'failed', reason: `error code ${error.code} (${error.message}), want ${c.want_error_code}` };
    // OPA's runner matches the text against the error's full string, `<file>:<line>: <code>: <message>` (files named test-<i>.rego).
    const where = error.location?.file && error.location.line ? `${error.location.file}:${error.location.line}: ` : '';
    if (c.want_error && !`${where}${error.code}: ${error.message}`.includes(c.want_error)) return { status: 'failed', reason: `error '${error.message}', want text '${c.want_error}'` };
    return { status: 'passed' };
  }
}

export function runConformance(dir: string, options: { filter?: string; skip?: SkipEntry[] } = {}): CaseResult[] {
  const results: CaseResult[] = [];
  const skipped = new Map((options.skip ?? []).map((s) => [s.folder, s.reason]));
  for (const folder of readdirSync(dir).sort()) {
    const folderPath = join(dir, folder);
    if (!statSync(folderPath).isDirectory()) continue;
    if (options.filter && !folder.includes(options.filter)) continue;
    for (const file of readdirSync(folderPath).filter((f) => f.endsWith('.json')).sort()) {
      const text = readFileSync(join(folderPath, file), 'utf8');
      const cases = (JSON.parse(text) as { cases: ConformanceCase[] }).cases;
      const exact = exactCases(text);
      cases.forEach((c, i) => {
        const skipReason = skipped.get(folder);
        if (skipReason) {
          results.push({ folder, file, index: i, note: c.note, status: 'skipped', reason: skipReason });
          return;
        }
        const r = runCase(c, exact[i] as RObject | undefined);
        results.push({ folder, file, index: i, note: c.note, ...r });
      });
    }
  }
  return results;
}
