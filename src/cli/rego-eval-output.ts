/**
 * `rego eval` output in opa's formats: `json` (the result set, plus `explanation` and `metrics` when
 * asked), `values` (one JSON array of expression values per result), `bindings` (one JSON object of
 * variable bindings per result) and `pretty` (a single value as JSON, otherwise a table; "undefined"
 * when there is no result). JSON is indented by two spaces, as opa prints it; numbers stay exact.
 */
import { numFromBigInt, RObject, serializeJson, type Value } from '../rego/value.js';
import type { TraceEvent } from '../rego/index.js';

export const EVAL_FORMATS = ['json', 'pretty', 'values', 'bindings'] as const;
export type EvalFormat = (typeof EVAL_FORMATS)[number];

export interface EvalRow {
  /** The value of each expression of the query (one for a single-term query, `true` per expression otherwise). */
  values: Value[];
  bindings: RObject;
}

export interface EvalReport {
  query: string;
  /** Each expression's source text and position, as opa reports them (default: the whole query at 1:1). */
  expressions?: { text: string; row: number; col: number }[];
  rows: EvalRow[];
  explanation?: TraceEvent[];
  /** opa's metric names, nanoseconds. */
  metrics?: Record<string, bigint>;
}

const json = (v: Value) => serializeJson(v, 2);

function resultValue(report: EvalReport): Value {
  const rows = report.rows.map((row) => {
    const expressions = row.values.map((value, i) => {
      const where = report.expressions?.[i] ?? { text: report.query, row: 1, col: 1 };
      return RObject.fromRecord({ value, text: where.text, location: RObject.fromRecord({ row: numFromBigInt(BigInt(where.row)), col: numFromBigInt(BigInt(where.col)) }) });
    });
    return RObject.fromRecord({ expressions, ...(row.bindings.size > 0 ? { bindings: row.bindings } : {}) });
  });
  return rows;
}

function eventValue(e: TraceEvent): Value {
  const location = RObject.fromRecord({ file: e.location.file, row: numFromBigInt(BigInt(e.location.line)), col: numFromBigInt(BigInt(e.location.column)) });
  return RObject.fromRecord({ op: opName(e.op), node_type: e.node, ...(e.rule ? { rule: e.rule } : {}), ...(e.text ? { text: e.text } : {}), depth: numFromBigInt(BigInt(e.depth)), location });
}

const opName = (op: TraceEvent['op']) => op[0].toUpperCase() + op.slice(1);

function metricsValue(metrics: Record<string, bigint>): RObject {
  return RObject.fromRecord(Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, numFromBigInt(v)])));
}

/** One line per trace event, indented by depth as `opa eval --explain` pretty-prints it. */
export function formatTrace(events: readonly TraceEvent[]): string[] {
  return events.map((e) => `${`${e.location.file}:${e.location.line}`.padEnd(16)} ${'| '.repeat(e.depth)}${opName(e.op)} ${e.text ?? e.rule ?? ''}`.trimEnd());
}

/** A plain text table: a header row, a rule, then one row per result. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const rule = `+-${widths.map((w) => '-'.repeat(w)).join('-+-')}-+`;
  return [rule, line(header), rule, ...rows.map(line), rule];
}

export function formatReport(report: EvalReport, format: EvalFormat): string[] {
  if (format === 'values') return report.rows.map((r) => json(r.values));
  if (format === 'bindings') return report.rows.map((r) => json(r.bindings));
  if (format === 'json') {
    const fields: Record<string, Value> = {};
    if (report.rows.length > 0) fields.result = resultValue(report);
    if (report.explanation) fields.explanation = report.explanation.map(eventValue);
    if (report.metrics) fields.metrics = metricsValue(report.metrics);
    return [json(RObject.fromRecord(fields))];
  }
  const out: string[] = report.explanation ? formatTrace(report.explanation) : [];
  const [first] = report.rows;
  if (!first) out.push('undefined');
  else if (report.rows.length === 1 && first.bindings.size === 0 && (first.values.length === 1 || first.values.every((v) => typeof v === 'boolean'))) out.push(json(first.values[0]));
  else {
    const names = [...new Set(report.rows.flatMap((r) => [...r.bindings.entries()].map(([k]) => String(serializeJson(k)).replace(/^"|"$/g, ''))))];
    // With bindings, an expression that is just `true` says nothing the bindings do not.
    const columns = first.values.map((v, i) => i).filter((i) => names.length === 0 || first.values[i] !== true);
    const header = [...names, ...columns.map((i) => report.expressions?.[i]?.text ?? report.query)];
    const rows = report.rows.map((r) => [
      ...names.map((n) => {
        const v = r.bindings.get(n);
        return v === undefined ? '' : serializeJson(v);
      }),
      ...columns.map((i) => serializeJson(r.values[i])),
    ]);
    out.push(...table(header, rows));
  }
  if (report.metrics) out.push(...table(['metric', 'value'], Object.entries(report.metrics).map(([k, v]) => [k, String(v)])));
  return out;
}
