/**
 * Runs `serve opa` queries in a pool of worker threads, each with a hard deadline and a memory cap.
 *
 * The engine checks its own step and time limits, and builtins check their size budgets, but one
 * evaluation still runs on one thread; in the HTTP thread it would stall /health and every other client.
 * Here the HTTP thread sends each query to an idle worker and starts a timer: when the worker has not
 * answered by the evaluation timeout plus a grace period, or dies (out of memory under `resourceLimits`),
 * it is terminated, the query fails with rego_limit_error, and a fresh worker takes its place.
 *
 * Several workers answer queries at once (one per core by default, started as load demands). Policy and
 * data changes are numbered: a worker that has not applied the latest change applies it before it takes
 * another query, so a query sent after a change always sees that change (or a later one).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ConfcomError, type ErrorLocation } from '../../core/errors.js';
import type { Json } from '../../rego/value.js';
import type { ExplainMode } from './opa-api.js';

export type WorkerSyntax = 'v0' | 'v1';

export type WorkerRequest =
  | { type: 'load'; id: number; policies: [id: string, text: string, syntax: WorkerSyntax][]; data: Json; timeoutMs: number; prints: boolean }
  | { type: 'query'; id: number; ref: string; input?: unknown; hasInput: boolean; body?: BodyInput; extra?: QueryExtra };

/**
 * What the HTTP thread posts: a load, or several queries at once (answered by one WorkerBatchReply).
 * When queries queue up, one message carries several: a postMessage and a thread wake-up on each side
 * are then shared by the batch instead of paid per query.
 */
export type WorkerMessage = Extract<WorkerRequest, { type: 'load' }> | { type: 'batch'; requests: Extract<WorkerRequest, { type: 'query' }>[] };
export interface WorkerBatchReply {
  type: 'batch';
  replies: WorkerReply[];
}

/**
 * Cells a worker shares with the HTTP thread (BigInt64Array on a SharedArrayBuffer): PROGRESS_INDEX is
 * the position in its batch of the query it runs, PROGRESS_STARTED when that query started (Date.now()).
 * The deadline applies to each query of a batch, read from here without a message.
 */
export const PROGRESS_INDEX = 0;
export const PROGRESS_STARTED = 1;
/** Most queries in one message. */
const MAX_BATCH = 8;

/**
 * What a query asks beyond a data ref's value: `text`, an ad-hoc query (its result set instead of a
 * value); `explain`, the trace in an OPA explain mode (`pretty`: as indented lines).
 */
export interface QueryExtra {
  text?: string;
  explain?: { mode: ExplainMode; pretty: boolean };
}

/**
 * A request body the worker parses itself (JSON text), so the HTTP thread neither parses it nor has a
 * parsed document structured-cloned across: `member` takes the body's `input` member (POST /v1/data),
 * `whole` takes the whole body (POST /; empty text: no input).
 */
export interface BodyInput {
  text: string;
  take: 'member' | 'whole';
}

export type WorkerReply =
  /**
   * `resultText` is the exact JSON text (numbers beyond double range keep their digits, e.g. 1e400): the
   * value, or for an ad-hoc query its result set (undefined: no rows); `explanationText` the explanation's JSON.
   */
  | { id: number; ok: true; resultText?: string; explanationText?: string; prints?: string[] }
  | { id: number; ok: false; error: { code: string; message: string; location?: ErrorLocation }; badBody?: true };

export interface QueryRunnerOptions {
  /** The engine's own evaluation timeout; the worker is stopped at this plus `graceMs`. */
  timeoutMs: number;
  graceMs?: number;
  /**
   * Old-generation heap cap of each worker (MB; default 2048). V8 sizes its collection schedule by this
   * cap: under 2 GB it grows the heap in smaller steps and marks far more often (with 512 MB a
   * CreateContainerRequest decision cost 0.2-0.3 ms more CPU than in the main thread, bench agent).
   */
  maxHeapMb?: number;
  /** Most workers at once (default: the number of cores, at most 8). */
  workers?: number;
  /** Whether queries gather print() output and answer it (`prints` of the reply); off, print() is a no-op. */
  prints?: boolean;
}

interface Job {
  request: WorkerRequest;
  resolve(reply: WorkerReply): void;
}

/** One worker thread and what it is doing. */
interface Slot {
  worker: Worker;
  /** The worker has loaded its code (start-up, slow from source, is not counted against a deadline). */
  ready: boolean;
  /** The load or the batch of queries it runs (undefined: idle). */
  current: Job[] | undefined;
  /** See PROGRESS_INDEX. */
  progress: BigInt64Array;
  timer: NodeJS.Timeout | undefined;
  /** The number of the last policy/data change this worker applied (0: none, an empty engine). */
  loaded: number;
  /** The number of the change it is applying now, if it is. */
  loading?: number;
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

/** See QueryRunnerOptions.maxHeapMb. */
export const DEFAULT_HEAP_MB = 2048;

export class QueryRunner {
  private readonly slots: Slot[] = [];
  private readonly maxWorkers: number;
  private readonly queue: Job[] = [];
  /** The latest policy/data change, its number, and who waits for it to be applied. */
  private lastLoad: Extract<WorkerRequest, { type: 'load' }> | undefined;
  private loadNumber = 0;
  private loadWaiters: { number: number; resolve(reply: WorkerReply): void }[] = [];
  private nextId = 0;
  private closed = false;
  /** Workers stopped for running over the deadline or the memory cap (for tests and logs). */
  restarts = 0;

  constructor(private readonly options: QueryRunnerOptions) {
    this.maxWorkers = Math.max(1, options.workers ?? Math.min(availableParallelism(), 8));
    this.slots.push(this.spawn());
  }

  /** How many workers run now (they are started as queries queue up, up to the pool size). */
  get workerCount(): number {
    return this.slots.length;
  }

  /**
   * Replaces the workers' policies and data. Resolves with the first worker's reply to it (its error
   * reply when they do not load); every worker applies it before its next query.
   */
  load(policies: [string, string, WorkerSyntax][], data: Json): Promise<WorkerReply> {
    const request: WorkerRequest = { type: 'load', id: this.nextId++, policies, data, timeoutMs: this.options.timeoutMs, prints: this.options.prints ?? false };
    this.lastLoad = request;
    const number = ++this.loadNumber;
    return new Promise((resolve) => {
      if (this.closed) return resolve({ id: request.id, ok: false, error: { code: 'rego_limit_error', message: 'the server is closing' } });
      this.loadWaiters.push({ number, resolve });
      this.pump();
    });
  }

  /**
   * Evaluates a data ref (`data["a"]["b"]`); input undefined means "no input". With `body`, the input
   * comes from that JSON text instead; text that is not JSON answers an error reply with `badBody`.
   */
  query(ref: string, input: unknown, body?: BodyInput, extra?: QueryExtra): Promise<WorkerReply> {
    const request: WorkerRequest = { type: 'query', id: this.nextId++, ref, input, hasInput: input !== undefined, body, extra };
    return new Promise((resolve) => {
      const job = { request, resolve };
      if (this.closed) return resolve(this.failure(job, 'the server is closing'));
      this.queue.push(job);
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const slot of this.slots) clearTimeout(slot.timer);
    for (const job of this.queue.splice(0)) job.resolve(this.failure(job, 'the server is closing'));
    for (const waiter of this.loadWaiters.splice(0)) waiter.resolve({ id: -1, ok: false, error: { code: 'rego_limit_error', message: 'the server is closing' } });
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private spawn(loaded = 0): Slot {
    const { entry, eval: isEval } = workerEntry();
    const progress = new BigInt64Array(new SharedArrayBuffer(2 * BigInt64Array.BYTES_PER_ELEMENT));
    const worker = new Worker(entry, {
      eval: isEval,
      workerData: { progress },
      resourceLimits: { maxOldGenerationSizeMb: this.options.maxHeapMb ?? DEFAULT_HEAP_MB, maxYoungGenerationSizeMb: 64 },
    });
    const slot: Slot = { worker, ready: false, current: undefined, progress, timer: undefined, loaded };
    worker.on('message', (reply: WorkerReply | WorkerBatchReply | 'ready') => {
      if (reply === 'ready') {
        slot.ready = true;
        return this.pump();
      }
      const jobs = slot.current;
      if (!this.slots.includes(slot) || !jobs) return;
      const replies = 'type' in reply ? reply.replies : [reply];
      if (replies.length !== jobs.length || replies.some((r, i) => r.id !== jobs[i].request.id)) return;
      this.finish(slot, replies);
    });
    worker.on('error', (error) => this.replace(slot, `the query worker failed: ${error.message}`));
    worker.on('exit', () => this.replace(slot, 'the query worker exited'));
    return slot;
  }

  /** Gives every idle worker its next job: the latest change when it is behind, else the next query. */
  private pump(): void {
    if (this.closed) return;
    let idle = this.slots.filter((s) => !s.current && s.ready).length;
    for (const slot of this.slots) {
      if (slot.current || !slot.ready) continue;
      if (this.lastLoad && slot.loaded < this.loadNumber) {
        const number = this.loadNumber;
        slot.loading = number;
        this.send(slot, [
          {
            request: this.lastLoad,
            resolve: (reply) => {
              slot.loading = undefined;
              slot.loaded = Math.max(slot.loaded, number);
              this.settleLoads(number, reply);
            },
          },
        ]);
        idle--;
        continue;
      }
      if (this.queue.length === 0) return;
      // The queue shared out over the idle workers: one worker does not take it all while another idles.
      const count = Math.min(MAX_BATCH, Math.ceil(this.queue.length / Math.max(1, idle)));
      this.send(slot, this.queue.splice(0, count));
      idle--;
    }
    // Every worker is busy (or starting) and queries wait: start another, up to the pool size.
    if (this.queue.length > this.slots.filter((s) => !s.ready).length && this.slots.length < this.maxWorkers) this.slots.push(this.spawn());
  }

  private send(slot: Slot, jobs: Job[]): void {
    slot.current = jobs;
    // Loading policies compiles them: give it the same deadline as a query.
    const limit = this.options.timeoutMs + (this.options.graceMs ?? 250);
    // The worker is idle, so these cells are ours until it starts: the first query counts from now.
    Atomics.store(slot.progress, PROGRESS_STARTED, BigInt(Date.now()));
    Atomics.store(slot.progress, PROGRESS_INDEX, 0n);
    // When the timer fires, the query the worker is on may have started later (a batch runs its
    // queries in turn): it gets the rest of its own time. The index is read first and the worker writes
    // the start first, so a torn read only ever sees a later start (a wait, never a wrong stop).
    const check = () => {
      const index = Number(Atomics.load(slot.progress, PROGRESS_INDEX));
      const left = limit - (Date.now() - Number(Atomics.load(slot.progress, PROGRESS_STARTED)));
      if (left > 0) slot.timer = setTimeout(check, left);
      else this.replace(slot, `evaluation exceeded ${this.options.timeoutMs} ms; the query worker was stopped`, index);
    };
    slot.timer = setTimeout(check, limit);
    const first = jobs[0].request;
    const message: WorkerMessage = first.type === 'load' ? first : { type: 'batch', requests: jobs.map((j) => j.request as Extract<WorkerRequest, { type: 'query' }>) };
    slot.worker.postMessage(message);
  }

  /** Resolves the callers of every change up to `number` with the first worker's reply to it. */
  private settleLoads(number: number, reply: WorkerReply): void {
    const due = this.loadWaiters.filter((w) => w.number <= number);
    this.loadWaiters = this.loadWaiters.filter((w) => w.number > number);
    for (const waiter of due) waiter.resolve(waiter.number === number ? reply : { ...reply, id: -1 });
  }

  private finish(slot: Slot, replies: WorkerReply[]): void {
    clearTimeout(slot.timer);
    const jobs = slot.current ?? [];
    slot.current = undefined;
    jobs.forEach((job, i) => job.resolve(replies[i]));
    this.pump();
  }

  private failure(job: Job, message: string): WorkerReply {
    return { id: job.request.id, ok: false, error: { code: 'rego_limit_error', message } };
  }

  /**
   * Stops a worker that overran or died and fails the job it was running (`running`: its position in
   * the batch; read from the worker's progress cells when not given). The batch's other queries go
   * back to the front of the queue, answered by a fresh worker: queries only read, so running one of
   * them again changes nothing.
   */
  private replace(slot: Slot, message: string, running?: number): void {
    const index = this.slots.indexOf(slot);
    if (index < 0 || this.closed) return;
    clearTimeout(slot.timer);
    this.restarts++;
    const jobs = slot.current ?? [];
    slot.current = undefined;
    const at = Math.min(Math.max(0, running ?? Number(Atomics.load(slot.progress, PROGRESS_INDEX))), Math.max(0, jobs.length - 1));
    void slot.worker.terminate();
    // The fresh worker starts empty and applies the latest change first, unless applying it is what
    // failed: then it stays empty rather than overrun again.
    this.slots[index] = this.spawn(slot.loading ?? 0);
    const failed = jobs[at];
    this.queue.unshift(...jobs.filter((job) => job !== failed));
    if (failed) failed.resolve(this.failure(failed, message));
    this.pump();
  }
}

/** A worker's error reply as the ConfcomError the HTTP layer reports. */
export function replyError(reply: Extract<WorkerReply, { ok: false }>): ConfcomError {
  return new ConfcomError(reply.error.code, reply.error.message, { location: reply.error.location });
}
