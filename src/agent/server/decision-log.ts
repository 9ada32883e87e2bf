/**
 * Decision log for the OPA-compatible server: one JSON line per query. Inputs can carry secrets (env
 * values, tokens, file contents), so values under keys that look secret are redacted before writing,
 * and the policy text of SetPolicy requests is never logged.
 */
import { createWriteStream, type WriteStream } from 'node:fs';

const SECRET_KEY = /(pass(word)?|secret|token|credential|private[_-]?key|api[_-]?key|auth)/i;
/** Environment variable entries (`NAME=value`) whose name looks secret get their value redacted. */
const SECRET_ENV = /^([A-Za-z_][A-Za-z0-9_]*(PASS(WORD)?|SECRET|TOKEN|KEY|CREDENTIALS?)[A-Za-z0-9_]*)=(.*)$/i;
export const REDACTED = '[REDACTED]';

/** Returns a copy with secret-looking values replaced by [REDACTED]. */
export function redact(value: unknown, key?: string): unknown {
  if (key !== undefined && SECRET_KEY.test(key)) return REDACTED;
  if (key === 'policy' || key === 'data') return typeof value === 'string' ? `[${value.length} bytes omitted]` : value;
  if (typeof value === 'string') {
    const env = SECRET_ENV.exec(value);
    return env ? `${env[1]}=${REDACTED}` : value;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  }
  return value;
}

export interface DecisionRecord {
  path: string;
  input: unknown;
  result?: unknown;
  error?: unknown;
  durationNs: number;
  requestId?: string;
}

export class DecisionLog {
  private readonly stream: WriteStream | undefined;
  private readonly sink: ((line: string) => void) | undefined;

  constructor(target: { file: string } | { sink: (line: string) => void }) {
    if ('file' in target) this.stream = createWriteStream(target.file, { flags: 'a' });
    else this.sink = target.sink;
  }

  record(entry: DecisionRecord): void {
    const line = JSON.stringify({
      timestamp: new Date().toISOString(),
      decision_id: entry.requestId,
      path: entry.path,
      input: redact(entry.input),
      result: entry.result,
      error: entry.error,
      metrics: { timer_eval_ns: entry.durationNs },
    });
    if (this.stream) this.stream.write(line + '\n');
    else this.sink?.(line);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.stream ? this.stream.end(resolve) : resolve()));
  }
}
