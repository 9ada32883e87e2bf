/**
 * The parts of OPA's REST API around a query (OPA's `server/types`): the `explain`, `metrics`,
 * `provenance`, `pretty` and `input` URL parameters, the explanation and metrics a response carries,
 * and ad-hoc query result sets (`/v1/query`). Names and shapes follow OPA's v1 server types.
 */
import type { RegoEngine, TraceEvent, Value } from '../../rego/index.js';
import { serializeJson } from '../../rego/value.js';
import type { BodyInput } from './query-runner.js';

export type ExplainMode = 'off' | 'full' | 'notes' | 'fails' | 'debug';
const EXPLAIN_MODES: readonly ExplainMode[] = ['off', 'full', 'notes', 'fails', 'debug'];

export interface QueryParams {
  explain: ExplainMode;
  metrics: boolean;
  provenance: boolean;
  pretty: boolean;
  /** The `input` URL parameter, parsed; undefined when absent. */
  input?: unknown;
  /** The `q` URL parameter of `/v1/query`. */
  q?: string;
}

/** A bad URL parameter (answered 400 invalid_parameter). */
export class ParamError extends Error {}

/** OPA reads a bare `?metrics` or `?metrics=true` as on; anything else but absence as off. */
function flag(value: string | undefined): boolean {
  return value === '' || value === 'true';
}

export function readQueryParams(query: Record<string, string | string[] | undefined>): QueryParams {
  const one = (name: string): string | undefined => {
    const v = query[name];
    return Array.isArray(v) ? v[v.length - 1] : v;
  };
  const explain = (one('explain') ?? 'off') as ExplainMode;
  if (!EXPLAIN_MODES.includes(explain)) throw new ParamError(`explain must be one of ${EXPLAIN_MODES.join(', ')}`);
  const params: QueryParams = { explain, metrics: flag(one('metrics')), provenance: flag(one('provenance')), pretty: flag(one('pretty')), q: one('q') };
  const input = one('input');
  if (input !== undefined) {
    try {
      params.input = JSON.parse(input);
    } catch (error) {
      throw new ParamError(`input parameter is not JSON: ${(error as Error).message}`);
    }
  }
  return params;
}

/** One trace event in OPA's raw explanation form (`TraceEventV1`), the node given as its source text. */
export interface ExplainEvent {
  op: string;
  type: string;
  node: { text?: string; location: unknown; rule?: string };
  locals: { key: string; value: unknown }[];
  depth: number;
}

/**
 * Most trace events an explanation keeps. A query that runs away under `?explain=full` would otherwise
 * hold every event (and the scope each one reads its locals from) until its deadline: gigabytes, and
 * collector threads that slowed the server's other answers. Past the cap the query runs on untraced and
 * the explanation ends with a note saying where it was cut.
 */
export const MAX_EXPLAIN_EVENTS = 50_000;

export interface ExplainCollector {
  tracer?: (e: TraceEvent) => void;
  events: TraceEvent[];
  /** Whether events were dropped at the cap. */
  truncated(): boolean;
}

/** Collects the events an explain mode keeps; `notes` keeps only trace() notes, which we do not emit. */
export function explainCollector(mode: ExplainMode, limit = MAX_EXPLAIN_EVENTS): ExplainCollector {
  const events: TraceEvent[] = [];
  let dropped = false;
  const truncated = () => dropped;
  if (mode === 'off') return { events, truncated };
  const keep = mode === 'fails' ? (e: TraceEvent) => e.op === 'fail' : mode === 'notes' ? () => false : () => true;
  const tracer = (e: TraceEvent) => {
    if (!keep(e)) return;
    if (events.length < limit) events.push(e);
    else dropped = true;
  };
  return { tracer, events, truncated };
}

const jsonOf = (v: Value): unknown => JSON.parse(serializeJson(v)) as unknown;

/**
 * The explanation: raw events, or with `pretty` one indented line per event as `opa eval` prints; with
 * `truncated`, a last Note event says the trace was cut at the cap.
 */
export function explanation(events: readonly TraceEvent[], pretty: boolean, truncated = false): unknown[] {
  const note = `explanation truncated after ${events.length} events`;
  if (pretty) {
    const lines = events.map((e) => `${'| '.repeat(e.depth)}${e.op[0].toUpperCase()}${e.op.slice(1)} ${e.text ?? e.rule ?? e.node}`);
    return truncated ? [...lines, `Note ${note}`] : lines;
  }
  const out = events.map(
    (e): ExplainEvent => ({
      op: e.op,
      type: e.node,
      node: { text: e.text, location: e.location, ...(e.rule === undefined ? {} : { rule: e.rule }) },
      locals: Object.entries(e.locals()).map(([key, value]) => ({ key, value: jsonOf(value) })),
      depth: e.depth,
    }),
  );
  if (truncated) out.push({ op: 'note', type: 'expr', node: { text: note, location: undefined }, locals: [], depth: 0 });
  return out;
}

/** OPA's metric names for what we time (nanoseconds). */
export interface Timers {
  timer_rego_input_parse_ns?: number;
  timer_rego_query_eval_ns?: number;
  timer_server_handler_ns?: number;
}

/** `ProvenanceV1`: build information (no bundles: policies arrive through the Policy API). */
export function provenanceOf(version: string): Record<string, string> {
  return { version, build_commit: '', build_timestamp: '', build_hostname: '' };
}

/** Ad-hoc query rows as OPA's result set text: bindings of the query's own variables, exact numbers kept. */
export function resultSetText(rows: readonly Record<string, Value>[]): string {
  const shown = (name: string) => !name.startsWith('$') && !name.startsWith('_');
  return `[${rows.map((row) => `{${Object.entries(row).filter(([k]) => shown(k)).map(([k, v]) => `${JSON.stringify(k)}:${serializeJson(v)}`).join(',')}}`).join(',')}]`;
}

/** Runs an ad-hoc query (or a data ref) on the given engine with a tracer; throws the engine's errors. */
export function evalTraced(engine: RegoEngine, query: { ref?: string; text?: string }, input: unknown, tracer?: (e: TraceEvent) => void): { value?: Value; rows?: Record<string, Value>[] } {
  const options = { ...(input === undefined ? {} : { input }), ...(tracer ? { tracer } : {}) };
  if (query.ref !== undefined) return { value: engine.evalRule(query.ref, options).value };
  return { rows: engine.evalQuery(query.text ?? '', options).value };
}

/** A member of a parsed JSON document, own properties only (a body's "input" or "query"). */
export function member(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * The input a request body carries: its "input" member or the whole body (BodyInput.take); undefined for
 * an empty body. Throws JSON.parse's SyntaxError on text that is not JSON.
 */
export function bodyInput(body: BodyInput): unknown {
  if (body.text.trim() === '') return undefined;
  const value: unknown = JSON.parse(body.text);
  return body.take === 'whole' ? value : member(value, 'input');
}
