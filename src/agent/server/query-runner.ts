/**
 * Runs `serve opa` queries in a worker thread with a hard deadline and a memory cap.
 *
 * The engine checks its own step and time limits, and builtins check their size budgets, but one
 * evaluation still runs on one thread; in the HTTP thread it would stall /health and every other client.
 * Here the HTTP thread sends each query to a worker and starts a timer: when the worker has not answered
 * by the evaluation timeout plus a grace period, or dies (out of memory under `resourceLimits`), the
 * worker is terminated, the query fails with rego_limit_error, and a fresh worker is started from the
 * last loaded state. Requests run one at a time, in order, so a query sent after a policy or data change
 * sees that change.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConfcomError, type ErrorLocation } from '../../core/errors.js';
import type { Json } from '../../rego/value.js';

export type WorkerSyntax = 'v0' | 'v1';

export type WorkerRequest =
  | { type: 'load'; id: number; policies: [id: string, text: string, syntax: WorkerSyntax][]; data: Json; timeoutMs: number }
  | { type: 'query'; id: number; ref: string; input?: unknown; hasInput: boolean };

export type WorkerReply =
  /** `resultText` is the exact JSON text (numbers beyond double range keep their digits, e.g. 1e400). */
  | { id: number; ok: true; resultText?: string }
  | { id: number; ok: false; error: { code: string; message: string; location?: ErrorLocation } };

export interface QueryRunnerOptions {
  /** The engine's own evaluation timeout; the worker is stopped at this plus `graceMs`. */
  timeoutMs: number;
  graceMs?: number;
  /** Old-generation heap of the worker (MB). */
  maxHeapMb?: number;
}

interface Job {
  request: WorkerRequest;
  resolve(reply: WorkerReply): void;
}

/**
 * From dist the worker is plain JS. From source (tests, tsx) it is TypeScript: a small bootstrap
 * registers tsx's loader inside the worker, then imports it (execArgv --import does not reach a
 * worker's entry module in Node 20).
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(FROM_SOURCE ? './query-worker.ts' : './query-worker.js', import.meta.url);

function workerEntry(): { entry: URL | string; eval: boolean } {
  if (!FROM_SOURCE) return { entry: WORKER_URL, eval: false };
  // The ESM build of tsx's API (require.resolve finds the CommonJS one, next to it).
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const source = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); });`;
  return { entry: source, eval: true };
}

export class QueryRunner {
  private worker: Worker;
  private readonly queue: Job[] = [];
  private current: Job | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastLoad: Extract<WorkerRequest, { type: 'load' }> | undefined;
  private nextId = 0;
  private closed = false;
  /** The worker has loaded its code (start-up, slow from source, is not counted against a deadline). */
  private ready = false;
  /** Workers stopped for running over the deadline or the memory cap (for tests and logs). */
  restarts = 0;

  constructor(private readonly options: QueryRunnerOptions) {
    this.worker = this.spawn();
  }

  /** Replaces the worker's policies and data. Resolves with the worker's error reply when they do not load. */
  load(policies: [string, string, WorkerSyntax][], data: Json): Promise<WorkerReply> {
    const request: WorkerRequest = { type: 'load', id: this.nextId++, policies, data, timeoutMs: this.options.timeoutMs };
    this.lastLoad = request;
    return this.enqueue(request);
  }

  /** Evaluates a data ref (`data["a"]["b"]`); input undefined means "no input". */
  query(ref: string, input: unknown): Promise<WorkerReply> {
    return this.enqueue({ type: 'query', id: this.nextId++, ref, input, hasInput: input !== undefined });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    for (const job of this.queue.splice(0)) job.resolve(this.failure(job, 'the server is closing'));
    await this.worker.terminate();
  }

  private spawn(): Worker {
    const { entry, eval: isEval } = workerEntry();
    const worker = new Worker(entry, {
      eval: isEval,
      resourceLimits: { maxOldGenerationSizeMb: this.options.maxHeapMb ?? 512, maxYoungGenerationSizeMb: 64 },
    });
    this.ready = false;
    worker.on('message', (reply: WorkerReply | 'ready') => {
      if (reply === 'ready') {
        if (worker === this.worker) this.ready = true;
        return this.pump();
      }
      if (worker !== this.worker || !this.current || reply.id !== this.current.request.id) return;
      this.finish(reply);
    });
    worker.on('error', (error) => this.replace(worker, `the query worker failed: ${error.message}`));
    worker.on('exit', () => this.replace(worker, 'the query worker exited'));
    return worker;
  }

  private enqueue(request: WorkerRequest): Promise<WorkerReply> {
    return new Promise((resolve) => {
      const job = { request, resolve };
      if (this.closed) return resolve(this.failure(job, 'the server is closing'));
      this.queue.push(job);
      this.pump();
    });
  }

  private pump(): void {
    if (this.current || this.closed || !this.ready) return;
    const job = this.queue.shift();
    if (!job) return;
    this.current = job;
    // Loading policies compiles them: give it the same deadline as a query.
    const limit = this.options.timeoutMs + (this.options.graceMs ?? 250);
    this.timer = setTimeout(() => this.replace(this.worker, `evaluation exceeded ${this.options.timeoutMs} ms; the query worker was stopped`), limit);
    this.worker.postMessage(job.request);
  }

  private finish(reply: WorkerReply): void {
    clearTimeout(this.timer);
    const job = this.current;
    this.current = undefined;
    job?.resolve(reply);
    this.pump();
  }

  private failure(job: Job, message: string): WorkerReply {
    return { id: job.request.id, ok: false, error: { code: 'rego_limit_error', message } };
  }

  /** Stops a worker that overran or died, fails its job, and continues on a fresh worker. */
  private replace(worker: Worker, message: string): void {
    if (worker !== this.worker || this.closed) return;
    clearTimeout(this.timer);
    this.restarts++;
    const job = this.current;
    this.current = undefined;
    void worker.terminate();
    this.worker = this.spawn();
    // The fresh worker starts empty: the last loaded state goes first (unless the failed job was it).
    if (this.lastLoad && job?.request !== this.lastLoad) this.queue.unshift({ request: this.lastLoad, resolve: () => undefined });
    if (job) job.resolve(this.failure(job, message));
    this.pump();
  }
}

/** A worker's error reply as the ConfcomError the HTTP layer reports. */
export function replyError(reply: Extract<WorkerReply, { ok: false }>): ConfcomError {
  return new ConfcomError(reply.error.code, reply.error.message, { location: reply.error.location });
}
