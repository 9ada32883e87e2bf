/**
 * The public API of confcom's Rego engine: load modules and data, evaluate rules and queries.
 * One engine holds compiled modules and base data; every evaluation is independent (its own caches,
 * limits and print output), so an engine can serve many requests.
 */
import { createHash } from 'node:crypto';
import type { Expr, Module } from './ast.js';
import { checkPolicy, checkQuery } from './check.js';
import { compileModules, type CompiledPolicy } from './compile.js';
import { RegoError, RegoLimitError } from './errors.js';
import { Evaluator, type TraceEvent, type Tracer } from './eval.js';
import { foldConstants } from './fold.js';
import { parseModule, parseQuery, type SyntaxVersion } from './parser.js';
import { BigNum, fromJson, RObject, RSet, type Value } from './value.js';

export * from './value.js';
export * from './errors.js';
export type { TraceEvent, Tracer, SyntaxVersion };

export interface RegoLimits {
  maxSourceBytes: number;
  maxNestingDepth: number;
  maxSteps: number;
  timeoutMs: number;
}

export const DEFAULT_LIMITS: RegoLimits = { maxSourceBytes: 4 * 1024 * 1024, maxNestingDepth: 512, maxSteps: 10_000_000, timeoutMs: 5_000 };

export interface EngineOptions {
  strictBuiltinErrors?: boolean;
  limits?: Partial<RegoLimits>;
  now?: () => bigint;
}

export interface EvalOptions {
  input?: unknown;
  strictBuiltinErrors?: boolean;
  tracer?: Tracer;
  signal?: AbortSignal;
  /**
   * Whether print() output is gathered (default true). A caller that never reads `prints` turns it off:
   * Kata policies print on almost every step, and gathering costs ~7% of a decision.
   */
  prints?: boolean;
}

export interface EvalResult<T> {
  value: T;
  prints: string[];
}
export type QueryRow = Record<string, Value>;

/**
 * A decision's value, with its print lines formatted only when asked for. A class rather than an object
 * literal with a getter: each such literal gets its own hidden class (V8 keeps the accessor in the map,
 * which lives in old space), and that map keeps the whole evaluator alive through every minor GC until a
 * full one. On the agent's hot path that was ~1 MB copied per scavenge, the p99 of a decision.
 */
class Result<T> implements EvalResult<T> {
  constructor(
    readonly value: T,
    private readonly ev: Evaluator,
  ) {}

  get prints(): string[] {
    return this.ev.prints;
  }
}

const REF_SEGMENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Splits `data.a.b["c"]` into ['a','b','c'] (only constant refs). */
function parseDataRef(ref: string): string[] | undefined {
  const m = /^data((?:\.[A-Za-z_][A-Za-z0-9_]*|\["(?:[^"\\]|\\.)*"\])*)$/.exec(ref.trim());
  if (!m) return undefined;
  const out: string[] = [];
  const re = /\.([A-Za-z_][A-Za-z0-9_]*)|\[("(?:[^"\\]|\\.)*")\]/g;
  let part: RegExpExecArray | null;
  while ((part = re.exec(m[1])) !== null) out.push(part[1] ?? (JSON.parse(part[2]) as string));
  return out;
}

/** Nesting depth of a JSON or Value document, measured without recursion (hostile input may be very deep). */
function nestingDepth(doc: unknown, limit: number): number {
  const stack: [unknown, number][] = [[doc, 1]];
  let max = 0;
  while (stack.length) {
    const [v, d] = stack.pop() as [unknown, number];
    if (d > max) max = d;
    if (max > limit) return max;
    if (v instanceof RObject) for (const [k, x] of v.entries()) stack.push([k, d + 1], [x, d + 1]);
    else if (v instanceof RSet || Array.isArray(v)) for (const x of v as Iterable<unknown>) stack.push([x, d + 1]);
    else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) stack.push([x, d + 1]);
  }
  return max;
}

/** Deepest nesting that convertBounded walks by recursion; deeper limits take the two-pass, stack-safe path. */
const RECURSION_SAFE_DEPTH = 2_000;

/**
 * Converts a document to a Value and checks its depth in the same pass (an input is converted once per
 * decision, so one walk instead of two). Throws `tooDeep` as soon as a value sits deeper than `limit`,
 * which also bounds the recursion. Values already converted (RObject, RSet) are measured, not copied.
 */
function convertBounded(j: unknown, limit: number, depth: number, tooDeep: () => Error): Value {
  if (depth > limit) throw tooDeep();
  if (j === null || j === undefined) return null;
  switch (typeof j) {
    case 'string':
    case 'boolean':
    case 'number':
      return j;
    case 'object':
      break;
    default:
      return fromJson(j);
  }
  if (Array.isArray(j)) {
    const out: Value[] = new Array<Value>(j.length);
    for (let i = 0; i < j.length; i++) out[i] = convertBounded(j[i], limit, depth + 1, tooDeep);
    return out;
  }
  if (j instanceof RObject || j instanceof RSet) {
    if (nestingDepth(j, limit - depth + 1) > limit - depth + 1) throw tooDeep();
    return j;
  }
  if (j instanceof BigNum) return j;
  const o = new RObject();
  const record = j as Record<string, unknown>;
  for (const k of Object.keys(record)) o.set(k, convertBounded(record[k], limit, depth + 1, tooDeep));
  return o;
}

/** Runs an evaluation; a JavaScript stack overflow (deep recursion in a policy) becomes a typed limit error. */
function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      throw new RegoLimitError('evaluation exceeded the maximum call depth');
    }
    throw error;
  }
}

/**
 * Parsed modules and compiled policies, by the hash of what produced them. An agent or server that is
 * handed the same policy again (a repeated SetPolicy, a PUT of the same text, a new engine per request
 * batch) reuses the work. Parsed modules and compiled policies are never changed after compilation.
 */
const CACHE_SIZE = 16;
const parsedCache = new Map<string, Module>();
const compiledCache = new Map<string, CompiledPolicy>();
/** Compiled policies whose constant literals are built (foldConstants), so that is done once per policy. */
const folded = new WeakSet<CompiledPolicy>();

function remember<T>(cache: Map<string, T>, key: string, make: () => T): T {
  const hit = cache.get(key);
  if (hit !== undefined) {
    // Most recently used last, so the oldest entry is the first to go.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const made = make();
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(key, made);
  return made;
}

function sha256(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(String(p.length)).update(':').update(p);
  return h.digest('hex');
}

/** The compiled policy of these modules, from the cache when the same modules were compiled before. */
function compileCached(modules: Map<string, Module>, hashes: Map<string, string>): CompiledPolicy {
  const key = sha256(...[...modules.keys()].map((f) => hashes.get(f) as string));
  return remember(compiledCache, key, () => compileModules([...modules.values()]));
}

export class RegoEngine {
  private readonly options: EngineOptions;
  private readonly limits: RegoLimits;
  private readonly parsed = new Map<string, Module>();
  private readonly hashes = new Map<string, string>();
  private compiled: CompiledPolicy | undefined;
  private data: Value = new RObject();

  constructor(options: EngineOptions = {}) {
    this.options = options;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  addModule(text: string, fileName: string, options: { syntax?: SyntaxVersion } = {}): void {
    const syntax = options.syntax ?? 'v1';
    const hash = sha256(fileName, syntax, String(this.limits.maxSourceBytes), String(this.limits.maxNestingDepth), text);
    const mod = remember(parsedCache, hash, () => parseModule(text, fileName, { syntax, maxSourceBytes: this.limits.maxSourceBytes, maxNestingDepth: this.limits.maxNestingDepth }));
    const next = new Map(this.parsed).set(fileName, mod);
    const hashes = new Map(this.hashes).set(fileName, hash);
    const compiled = compileCached(next, hashes);
    this.parsed.set(fileName, mod);
    this.hashes.set(fileName, hash);
    this.compiled = compiled;
  }

  removeModule(fileName: string): void {
    this.parsed.delete(fileName);
    this.hashes.delete(fileName);
    this.compiled = undefined;
  }

  modules(): string[] {
    return [...this.parsed.keys()];
  }

  setData(data: unknown): void {
    this.data = this.convert(data, 'data');
  }

  putData(path: readonly string[], value: unknown | undefined): void {
    this.checkDepth(value, 'data');
    const set = (base: Value | undefined, i: number): Value | undefined => {
      if (i === path.length) return value === undefined ? undefined : fromJson(value);
      const obj = base instanceof RObject ? new RObject(base.entries()) : new RObject();
      const child = set(obj.get(path[i]), i + 1);
      if (child === undefined) obj.delete(path[i]);
      else obj.set(path[i], child);
      return obj;
    };
    this.data = set(this.data, 0) ?? new RObject();
  }

  getData(path: readonly string[]): Value | undefined {
    let v: Value | undefined = this.data;
    for (const seg of path) v = v instanceof RObject ? v.get(seg) : undefined;
    return v;
  }

  /** The compiled policy of all modules, checked (once per policy) before anything evaluates on it. */
  private policy(): CompiledPolicy {
    this.compiled ??= compileCached(this.parsed, this.hashes);
    checkPolicy(this.compiled, this.parsed.values());
    if (!folded.has(this.compiled)) {
      foldConstants(this.parsed.values());
      folded.add(this.compiled);
    }
    return this.compiled;
  }

  /**
   * Runs the check stage now (undefined functions, arity, compile-time type errors) and throws its first
   * error. Modules may refer to each other, so this runs over all of them: call it after adding the last.
   * Evaluation runs it too.
   */
  check(): void {
    this.policy();
  }

  /** The document as a Value, refused when nested deeper than the limit. */
  private convert(doc: unknown, what: string): Value {
    const limit = this.limits.maxNestingDepth;
    if (limit > RECURSION_SAFE_DEPTH) {
      this.checkDepth(doc, what);
      return fromJson(doc);
    }
    return convertBounded(doc, limit, 1, () => new RegoLimitError(`${what} is nested deeper than ${limit} levels`));
  }

  private checkDepth(doc: unknown, what: string): void {
    if (doc !== undefined && nestingDepth(doc, this.limits.maxNestingDepth) > this.limits.maxNestingDepth) {
      throw new RegoLimitError(`${what} is nested deeper than ${this.limits.maxNestingDepth} levels`);
    }
  }

  private evaluator(options: EvalOptions): Evaluator {
    const input = options.input === undefined ? undefined : this.convert(options.input, 'input');
    const now = this.options.now?.() ?? BigInt(Date.now()) * 1_000_000n;
    return new Evaluator(this.policy(), this.data, input, {
      strict: options.strictBuiltinErrors ?? this.options.strictBuiltinErrors ?? false,
      maxSteps: this.limits.maxSteps,
      timeoutMs: this.limits.timeoutMs,
      nowNs: now,
      tracer: options.tracer,
      signal: options.signal,
      prints: options.prints,
    });
  }

  evalRule(ref: string, options: EvalOptions = {}): EvalResult<Value | undefined> {
    const path = parseDataRef(ref);
    if (!path) {
      const rows = this.evalQuery(`__result__ = ${ref}`, options);
      return { value: rows.value[0]?.__result__, prints: rows.prints };
    }
    const ev = this.evaluator(options);
    const value = guarded(() => ev.evalDataPath(path));
    return new Result(value, ev);
  }

  evalQuery(query: string, options: EvalOptions = {}): EvalResult<QueryRow[]> {
    let body: Expr[];
    try {
      body = parseQuery(query, 'query', { maxNestingDepth: this.limits.maxNestingDepth });
    } catch (error) {
      if (error instanceof RegoError) throw error;
      throw new RegoError('rego_parse_error', String(error));
    }
    checkQuery(this.policy(), body);
    const ev = this.evaluator(options);
    const rows = guarded(() => ev.evalQueryBody(body));
    return new Result(rows, ev);
  }
}

export function isRefSegment(s: string): boolean {
  return REF_SEGMENT.test(s);
}

/**
 * V8 compiles a function when it is first called and runs it in its interpreter until it is called
 * often: the first decision after SetPolicy paid for the evaluator's and the common builtins' first
 * calls (about 4 ms of a Kata CreateContainerRequest's first decision, and up to 9 ms in its slowest
 * runs). A small policy with the shapes Kata policies have (functions with several rules, `some ... in`,
 * `every`, refs into a package rule, replace/concat/split/regex.match, print, `not`) evaluated twice when
 * this module loads pays that at start-up instead (about 10 ms of import). It runs on its own engine;
 * its only trace is one entry each in the parse and compile caches, and any failure is ignored: it is
 * an optimisation, never a reason not to load. Returns whether the warm-up policy decided as it should
 * (a test checks it still takes its paths).
 */
export function warmUp(): boolean {
  try {
    const engine = new RegoEngine();
    engine.addModule(WARM_UP_POLICY, 'confcom-warm-up.rego', { syntax: 'v0' });
    let allowed = true;
    // The input takes every path: one element is found by the first rule of f, the other by its regex.
    for (let i = 0; i < 2; i++) allowed &&= engine.evalRule('data.confcom_warm_up.allow', { input: { xs: ['a=1', 'b=22'], s: 'a', o: { k: 'v' } } }).value === true;
    return allowed;
  } catch {
    // See above: never fatal.
    return false;
  }
}

const WARM_UP_POLICY = `package confcom_warm_up
d := {"xs": ["a=1", "b=2"], "o": {"k": "v", "re": "^b=[0-9]+$"}}
f(x, y) { some p in d.xs; p2 := replace(p, "$(x)", y); p2 == x; print("f", p2) }
f(x, y) { regex.match(d.o.re, x) }
g(x) = concat("/", [x, "b"]) { startswith(x, "a") }
allow { every x in input.xs { f(x, "z") }; g(input.s) == "a/b"; not input.bad; count(input.xs) > 0; input.o.k == d.o.k; split(input.xs[0], "=")[0] == "a" }
`;

warmUp();
