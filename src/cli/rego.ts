/** `confcom rego eval | conformance`: the Rego engine from the command line, with opa's eval flags. */
import { Command, Option } from './commander.js';
import { readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileError, InputError, UsageError } from '../core/errors.js';
import { readInputText } from '../core/fs.js';
import type { SkipEntry } from '../rego/conformance.js';
import type { RegoEngine, TraceEvent } from '../rego/index.js';
import type { RObject, Value } from '../rego/value.js';
import type { Term } from '../rego/ast.js';
import { someChild } from '../rego/walk.js';
import { EVAL_FORMATS, type EvalFormat, type EvalRow } from './rego-eval-output.js';
import { printLine } from './context.js';

const RESULT_VAR = '__confcom_result__';
const COMPARISONS = new Set(['equal', 'neq', 'lt', 'lte', 'gt', 'gte', 'internal.member_2', 'internal.member_3']);

/**
 * Whether `opa eval` captures the value of a term expression (rego.go rewriteQueryToCaptureValue):
 * plain terms always; a call when it names a builtin and gives no output argument (`1 == 2` becomes
 * `equal(1, 2, x)`, while `plus(1, 2, z)` is left alone). Calls of user functions stay truth checks.
 */
function capturesValue(t: Term, lookup: (name: string) => { arity: number } | undefined): boolean {
  if (t.type !== 'call') return true;
  const name = t.fn.join('.');
  if (COMPARISONS.has(name)) return true;
  return lookup(name)?.arity === t.args.length;
}

/**
 * OPA's `iteration(query)`: a ref with a variable after its head (`data.x[i]`, `xs[_]`) may give
 * several results, so opa adds a truth check and false values drop out. Comprehensions are closed.
 */
function iterates(t: Term): boolean {
  // A comprehension is closed; of a `with` term only the term itself counts.
  if (t.type === 'arraycomp' || t.type === 'setcomp' || t.type === 'objectcomp') return false;
  if (t.type === 'with') return iterates(t.term);
  if (t.type === 'ref' && t.path.some((p) => p.type === 'var')) return true;
  return someChild(t, iterates);
}

/** The skip list shipped with confcom: folders whose builtins need the network or an external system. */
export function defaultSkipList(): SkipEntry[] {
  const file = fileURLToPath(new URL('../rego/conformance-skip.json', import.meta.url));
  return (JSON.parse(readFileSync(file, 'utf8')) as { skip: SkipEntry[] }).skip;
}

interface EvalFlags {
  data: string[];
  input?: string;
  stdinInput?: boolean;
  format: EvalFormat;
  fail?: boolean;
  failDefined?: boolean;
  explain?: 'full' | 'fails';
  metrics?: boolean;
  v0?: boolean;
  strictBuiltinErrors?: boolean;
}

/** A data or policy file found under `-d`, with the data path its folders give it (as opa loads them). */
interface Loaded {
  file: string;
  path: string[];
}

const POLICY_EXT = /\.rego$/;
const DATA_EXT = /\.(json|ya?ml)$/;

/** Files under `-d PATH`: PATH itself, or every .rego/.json/.yaml below a folder, in name order. */
async function collectFiles(root: string): Promise<Loaded[]> {
  let info;
  try {
    info = await stat(root);
  } catch (error) {
    throw fileError(root, error);
  }
  if (!info.isDirectory()) return [{ file: root, path: [] }];
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && (POLICY_EXT.test(e.name) || DATA_EXT.test(e.name)))
    .map((e) => join(e.parentPath, e.name))
    .sort()
    .map((file) => ({ file, path: relative(root, file).split(sep).slice(0, -1) }));
}

/** Deep-merges `value` into `base` at `path`; two files giving one key different values is an error. */
function mergeAt(base: RObject, path: readonly string[], value: Value, file: string, R: typeof import('../rego/value.js')): void {
  let node = base;
  for (const key of path) {
    const next = node.get(key);
    if (next instanceof R.RObject) node = next;
    else if (next === undefined) {
      const created = new R.RObject();
      node.set(key, created);
      node = created;
    } else throw new InputError('data_merge_conflict', `${file} puts data at ${path.join('.')}, where other data already holds a value`, { location: { file } });
  }
  if (!(value instanceof R.RObject)) {
    if (path.length === 0) throw new InputError('data_not_object', `${file}: data at the root must be a JSON object`, { location: { file } });
    throw new InputError('data_merge_conflict', `${file} is not an object and cannot be merged at ${path.join('.')}`, { location: { file } });
  }
  for (const [k, v] of value.entries()) {
    const existing = node.get(k);
    if (existing instanceof R.RObject && v instanceof R.RObject && typeof k === 'string') mergeAt(node, [k], v, file, R);
    else if (existing !== undefined && !R.equals(existing, v)) throw new InputError('data_merge_conflict', `${file}: key ${R.serializeJson(k)} conflicts with data loaded earlier`, { location: { file } });
    else node.set(k, v);
  }
}

async function parseData(file: string, text: string): Promise<Value> {
  const { parseJsonText } = await import('../rego/json.js');
  try {
    if (file.endsWith('.json')) return parseJsonText(text);
    const { parse } = await import('../core/yaml.js');
    return parseJsonText(JSON.stringify(parse(text) ?? {}));
  } catch (error) {
    throw new InputError('data_bad_json', `${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message}`, { location: { file } });
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function loadEngine(flags: EvalFlags, timers: Record<string, bigint>): Promise<RegoEngine> {
  const { RegoEngine } = await import('../rego/index.js');
  const R = await import('../rego/value.js');
  const engine = new RegoEngine({ strictBuiltinErrors: flags.strictBuiltinErrors === true });
  const data = new R.RObject();
  const time = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
    const started = process.hrtime.bigint();
    try {
      return await fn();
    } finally {
      timers[name] = (timers[name] ?? 0n) + process.hrtime.bigint() - started;
    }
  };
  for (const root of flags.data) {
    for (const { file, path } of await collectFiles(root)) {
      const text = await time('timer_rego_load_files_ns', () => readInputText(file));
      if (POLICY_EXT.test(file) || !DATA_EXT.test(file)) await time('timer_rego_module_compile_ns', () => engine.addModule(text, file, { syntax: flags.v0 ? 'v0' : 'v1' }));
      else mergeAt(data, path, await parseData(file, text), file, R);
    }
  }
  engine.setData(data);
  return engine;
}

async function readInput(flags: EvalFlags): Promise<Value | undefined> {
  if (flags.input && flags.stdinInput) throw new UsageError('give the input once: -i FILE or -I (stdin), not both');
  if (!flags.input && !flags.stdinInput) return undefined;
  const { parseJsonText } = await import('../rego/json.js');
  const name = flags.input ?? 'stdin';
  const text = flags.input ? await readInputText(flags.input) : await readStdin();
  try {
    return parseJsonText(text);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError('input_bad_json', `${name} is not valid JSON: ${(error as Error).message}`, { location: { file: name } });
  }
}

async function evalCommand(query: string, flags: EvalFlags): Promise<void> {
  if (flags.fail && flags.failDefined) throw new UsageError('--fail and --fail-defined exclude each other');
  const timers: Record<string, bigint> = {};
  const engine = await loadEngine(flags, timers);
  const input = await readInput(flags);
  const { parseQuery } = await import('../rego/parser.js');
  const R = await import('../rego/value.js');
  const { formatReport } = await import('./rego-eval-output.js');
  // As `opa eval` (rewriteQueryToCaptureValue): each term expression's value is captured, false
  // included. A query of one expression without iteration reports it as it is; with iteration or
  // several expressions opa adds a truth check, so a false one makes that result undefined.
  let started = process.hrtime.bigint();
  const body = parseQuery(query);
  timers.timer_rego_query_parse_ns = process.hrtime.bigint() - started;
  const { lookupBuiltin } = await import('../rego/builtins/index.js');
  const captured = body.map((e, i) => (e.kind === 'term' && capturesValue(e.term, lookupBuiltin) ? `${RESULT_VAR}${i}` : undefined));
  const truthCheck = body.length > 1 || (body[0]?.kind === 'term' && iterates(body[0].term));
  const rewritten = body.map((e, i) => (captured[i] ? `${captured[i]} = ${e.text}` : e.text)).join('; ');
  const events: TraceEvent[] = [];
  // The trace shows the user's query, not the variables we bind its values to.
  const prefix = new RegExp(`^${RESULT_VAR}\\d+ = `);
  const shown = (e: TraceEvent): TraceEvent => (e.text && prefix.test(e.text) ? { ...e, text: e.text.replace(prefix, '') } : e);
  const tracer = flags.explain ? (e: TraceEvent) => void ((flags.explain === 'full' || e.op === 'fail') && events.push(shown(e))) : undefined;
  started = process.hrtime.bigint();
  const result = engine.evalQuery(rewritten, { ...(input === undefined ? {} : { input }), ...(tracer ? { tracer } : {}) });
  timers.timer_rego_query_eval_ns = process.hrtime.bigint() - started;
  for (const line of result.prints) process.stderr.write(line + '\n');
  const ours = (k: string) => k.startsWith(RESULT_VAR);
  const rows: EvalRow[] = result.value
    .filter((row) => !truthCheck || captured.every((v) => v === undefined || row[v] !== false))
    .map((row) => ({
      values: captured.map((v) => (v === undefined ? true : row[v])),
      bindings: R.RObject.fromRecord(Object.fromEntries(Object.entries(row).filter(([k]) => !ours(k)))),
    }));
  const expressions = body.map((e) => ({ text: e.text, row: e.loc.line, col: e.loc.column }));
  const report = { query, rows, expressions, ...(flags.explain ? { explanation: events } : {}), ...(flags.metrics ? { metrics: timers } : {}) };
  for (const line of formatReport(report, flags.format)) printLine(line);
  if ((flags.fail && rows.length === 0) || (flags.failDefined && rows.length > 0)) process.exitCode = 1;
}

export function registerRego(program: Command): void {
  const group = program.command('rego').description('evaluate Rego queries and run OPA conformance cases');

  group
    .command('eval')
    .description('evaluate a query like `opa eval` (same flags and output formats)')
    .argument('<query>', 'the Rego query, e.g. data.example.allow')
    .option('-d, --data <path>', 'a .rego or .json/.yaml file, or a folder loaded recursively (data files at their folder path); repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('-i, --input <file>', 'input document (JSON)')
    .option('-I, --stdin-input', 'read the input document from stdin')
    .addOption(new Option('-f, --format <format>', 'output format').choices(EVAL_FORMATS).default('json'))
    .option('--fail', 'exit 1 when the result is undefined (empty)')
    .option('--fail-defined', 'exit 1 when the result is defined (not empty)')
    .addOption(new Option('--explain <mode>', 'include a trace: every event, or only failures').choices(['full', 'fails']))
    .option('--metrics', 'report timings (nanoseconds, opa metric names)')
    .option('--v0', 'parse modules with Rego v0 syntax')
    .option('--strict-builtin-errors', 'raise builtin errors instead of treating them as undefined')
    .action((query: string, flags: EvalFlags) => evalCommand(query, flags));

  group
    .command('conformance')
    .description('run OPA-format conformance cases; ends with `N passed, N failed, N skipped`')
    .argument('<dir>', 'folder of case folders, e.g. ../shared/opa-conformance/v1')
    .option('--filter <text>', 'only folders whose name contains this text')
    .option('--failures', 'list every failing case with its reason')
    .action(async (dir: string, flags: { filter?: string; failures?: boolean }) => {
      const { runConformance } = await import('../rego/conformance.js');
      const results = runConformance(dir, { filter: flags.filter, skip: defaultSkipList() });
      const byFolder = new Map<string, { passed: number; failed: number; skipped: number }>();
      for (const r of results) {
        const row = byFolder.get(r.folder) ?? { passed: 0, failed: 0, skipped: 0 };
        row[r.status]++;
        byFolder.set(r.folder, row);
      }
      printLine(`${'folder'.padEnd(40)} passed failed skipped`);
      for (const [folder, row] of byFolder) printLine(`${folder.padEnd(40)} ${String(row.passed).padStart(6)} ${String(row.failed).padStart(6)} ${String(row.skipped).padStart(7)}`);
      if (flags.failures) for (const r of results.filter((x) => x.status === 'failed')) printLine(`FAIL ${r.note}: ${r.reason}`);
      const count = (s: string) => results.filter((r) => r.status === s).length;
      printLine(`${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped`);
      if (count('failed') > 0) process.exitCode = 1;
    });
}
