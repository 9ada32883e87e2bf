/**
 * The body of the `serve opa` query worker: one Rego engine holding the server's policies and base
 * data, answering one query at a time. It runs in a worker thread so a query that runs away (time or
 * memory) is stopped by terminating the thread, and the HTTP thread keeps answering (/health).
 * Messages are described in query-runner.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RegoEngine } from '../../rego/index.js';
import { serializeJson } from '../../rego/value.js';
import { ConfcomError } from '../../core/errors.js';
import { PROGRESS_INDEX, PROGRESS_STARTED, type BodyInput, type WorkerBatchReply, type WorkerMessage, type WorkerReply, type WorkerRequest } from './query-runner.js';
import { bodyInput, evalTraced, explainCollector, explanation, resultSetText } from './opa-api.js';

let engine = new RegoEngine();
/** Whether queries gather print() output (the server logs it); off, print() is a no-op and costs nothing. */
let prints = false;

function load(request: Extract<WorkerRequest, { type: 'load' }>): void {
  const next = new RegoEngine({ strictBuiltinErrors: false, limits: { timeoutMs: request.timeoutMs } });
  for (const [id, text, syntax] of request.policies) next.addModule(text, id, { syntax });
  next.setData(request.data);
  engine = next;
  prints = request.prints;
}

/** The input a request body carries (undefined: none), or why the body is not JSON. */
function parseBody(body: BodyInput): { ok: true; input: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, input: bodyInput(body) };
  } catch (error) {
    return { ok: false, message: `body is not JSON: ${(error as Error).message}` };
  }
}

function handle(request: WorkerRequest): WorkerReply {
  try {
    if (request.type === 'load') {
      load(request);
      return { id: request.id, ok: true };
    }
    let input = request.input;
    let hasInput = request.hasInput;
    if (request.body) {
      const parsed = parseBody(request.body);
      if (!parsed.ok) return { id: request.id, ok: false, error: { code: 'invalid_parameter', message: parsed.message }, badBody: true };
      input = parsed.input;
      hasInput = input !== undefined;
    }
    const extra = request.extra;
    if (!extra) {
      const result = engine.evalRule(request.ref, hasInput ? { input, prints } : { prints });
      const value = result.value;
      const lines = prints ? result.prints : undefined;
      return { id: request.id, ok: true, resultText: value === undefined ? undefined : serializeJson(value), prints: lines?.length ? lines : undefined };
    }
    const { tracer, events, truncated } = explainCollector(extra.explain?.mode ?? 'off');
    const answer = evalTraced(engine, extra.text === undefined ? { ref: request.ref } : { text: extra.text }, hasInput ? input : undefined, tracer);
    const resultText = answer.rows ? (answer.rows.length === 0 ? undefined : resultSetText(answer.rows)) : answer.value === undefined ? undefined : serializeJson(answer.value);
    const explanationText = tracer ? JSON.stringify(explanation(events, extra.explain?.pretty ?? false, truncated())) : undefined;
    return { id: request.id, ok: true, resultText, explanationText };
  } catch (error) {
    if (error instanceof ConfcomError) return { id: request.id, ok: false, error: { code: error.code, message: error.message, location: error.location } };
    return { id: request.id, ok: false, error: { code: 'internal_error', message: error instanceof Error ? error.message : String(error) } };
  }
}

const progress = (workerData as { progress: BigInt64Array }).progress;

/** Tells the HTTP thread's deadline timer which query of the batch runs, and since when (start first). */
function started(index: number): void {
  Atomics.store(progress, PROGRESS_STARTED, BigInt(Date.now()));
  Atomics.store(progress, PROGRESS_INDEX, BigInt(index));
}

parentPort?.on('message', (message: WorkerMessage) => {
  if (message.type === 'load') {
    started(0);
    parentPort?.postMessage(handle(message));
    return;
  }
  const reply: WorkerBatchReply = { type: 'batch', replies: message.requests.map((request, i) => (started(i), handle(request))) };
  parentPort?.postMessage(reply);
});
parentPort?.postMessage('ready');
