/**
 * Replay of recorded agent requests: JSON lines `{"kind", "request", "expect"?}` decided in order by
 * one enforcer, so policy state carries from request to request as in the agent.
 */
import { InputError } from '../core/errors.js';
import type { Json } from '../rego/value.js';
import type { Decision, PolicyEnforcer } from './enforcer.js';

export interface RecordedRequest {
  kind: string;
  request: unknown;
  expect?: Json;
  /** 1-based line in the source file. */
  line: number;
}

export interface ReplayOutcome {
  record: RecordedRequest;
  decision: Decision;
  /** The value compared with `expect`: the rule's boolean, or `allowed` of `{allowed, ops}`, or the decision. */
  outcome: Json;
  /** undefined when the line has no `expect`. */
  matches?: boolean;
}

/** Parses JSON lines of recorded requests; blank lines are skipped. Errors name the file and line. */
export function parseRecordedRequests(text: string, file: string): RecordedRequest[] {
  const out: RecordedRequest[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const where = { file, line: i + 1 };
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      throw new InputError('replay_bad_json', `line ${i + 1} is not valid JSON: ${(error as Error).message}`, {
        location: where,
        hint: 'each line must be one JSON object {"kind", "request", "expect"?}',
      });
    }
    const record = parsed as Partial<RecordedRequest> | null;
    if (typeof record !== 'object' || record === null || typeof record.kind !== 'string' || !('request' in record)) {
      throw new InputError('replay_bad_record', `line ${i + 1} lacks "kind" (string) or "request"`, {
        location: where,
        hint: 'each line must be one JSON object {"kind", "request", "expect"?}',
      });
    }
    out.push({ kind: record.kind, request: record.request, expect: record.expect, line: i + 1 });
  });
  return out;
}

function outcomeOf(decision: Decision): Json {
  const v = decision.value;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof v.allowed === 'boolean') return v.allowed;
  return decision.allowed;
}

function sameJson(a: Json | undefined, b: Json | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Decides every record in order and compares with its `expect`. */
export function replay(enforcer: PolicyEnforcer, records: readonly RecordedRequest[]): ReplayOutcome[] {
  return records.map((record) => {
    const decision = enforcer.decide(record.kind, record.request);
    const outcome = outcomeOf(decision);
    if (record.expect === undefined) return { record, decision, outcome };
    const matches = typeof record.expect === 'boolean' ? outcome === record.expect : sameJson(decision.value, record.expect);
    return { record, decision, outcome, matches };
  });
}
