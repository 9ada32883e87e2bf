/**
 * Decision log for the OPA-compatible server: one JSON line per query. Inputs can carry secrets (env
 * values, tokens, file contents), so values under keys that look secret are redacted before writing,
 * and the policy text of SetPolicy requests is never logged.
 */
import { pino, type Logger } from 'pino';

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

/**
 * Writes one pino JSON line per decision, in the fields of OPA's console decision logger
 * (`msg: "Decision Log"`, `type: openpolicyagent.org/decision_logs`, decision_id, path, input, result,
 * metrics), to a file or to a sink (tests).
 */
export class DecisionLog {
  private readonly logger: Logger;
  private readonly destination: ReturnType<typeof pino.destination> | undefined;

  constructor(target: { file: string } | { sink: (line: string) => void }) {
    if ('file' in target) {
      this.destination = pino.destination({ dest: target.file, append: true, sync: false, mkdir: false });
      this.logger = pino({ base: undefined }, this.destination);
    } else {
      const sink = target.sink;
      this.logger = pino({ base: undefined }, { write: (line: string) => sink(line.replace(/\n$/, '')) });
    }
  }

  record(entry: DecisionRecord): void {
    this.logger.info(
      {
        type: 'openpolicyagent.org/decision_logs',
        timestamp: new Date().toISOString(),
        decision_id: entry.requestId,
        path: entry.path,
        input: redact(entry.input),
        result: entry.result,
        error: entry.error,
        metrics: { timer_eval_ns: entry.durationNs },
      },
      'Decision Log',
    );
  }

  close(): Promise<void> {
    const destination = this.destination;
    if (!destination) return Promise.resolve();
    return new Promise((resolve) => {
      destination.once('close', () => resolve());
      destination.end();
    });
  }
}
