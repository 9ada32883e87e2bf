/**
 * An HTTP server compatible with the parts of OPA's REST API that the Kata agent (and tooling around
 * it) used: policies, data documents, health. One engine holds every policy module and the base data.
 *
 *   PUT    /v1/policies/{id}     Rego text body; 200 {} | 400 {code, message, errors[]}
 *   GET    /v1/policies/{id}     200 {result: {id, raw}} | 404
 *   GET    /v1/policies          200 {result: [{id, raw}]}
 *   DELETE /v1/policies/{id}     200 {} | 400 (the rest would not compile) | 404
 *   POST   /v1/data/{path}       {"input": ...} -> 200 {result} (no `result` key when undefined)
 *   GET    /v1/data/{path}       200 {result}
 *   PUT    /v1/data/{path}       JSON body replaces the base document; 204
 *   PATCH  /v1/data/{path}       JSON Patch on the base document; 204
 *   GET    /v1/data?input=JSON   the same with a URL-encoded input document
 *   POST   /                     the body is the input; answers the default decision's value itself
 *                                (`defaultDecision`, data.system.main unless set); 404 undefined_document
 *   GET    /v1/query?q=...       ad-hoc query; POST /v1/query {"query", "input"}: 200 {result: [bindings]}
 *   GET    /v1/status            200 {result: {labels, plugins}}
 *   GET    /health[?bundles][&plugins]  200 {} once the start-up policies are loaded, else 500 {error}
 *   GET    /metrics              Prometheus text (request durations, decisions, process)
 *   any other route               404 {code: resource_not_found, message}
 *
 * Data and query reads take OPA's `explain` (full|fails|notes|debug), `metrics`, `provenance` and `pretty`
 * URL parameters. Every query runs in a query worker, explained and ad-hoc ones too (the worker builds
 * the explanation), and a decision's body is parsed there: this thread only routes and answers.
 *
 * Bodies above `maxBodyBytes` get 413. Each query runs under the engine's step and time limits, in a
 * worker thread with a hard deadline and a memory cap (query-runner.ts), so /health and other clients
 * are answered while a bad query runs; a query that errors answers 500 with OPA's error body and the
 * server keeps serving. Data paths through `__proto__`, `constructor` or `prototype` are refused (400).
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import { registerHttpMetrics } from '../../core/http-metrics.js';
import { RegoEngine } from '../../rego/index.js';
import { RegoCheckError } from '../../rego/check.js';
import type { Json } from '../../rego/value.js';
import { ConfcomError } from '../../core/errors.js';
import type { PolicySyntax } from '../enforcer.js';
import { applyJsonPatch, asPatchOperations, JsonPatchError } from '../json-patch.js';
import { unsafeSegment } from '../../rego/safe-path.js';
import { DecisionLog } from './decision-log.js';
import { QueryRunner, replyError, type BodyInput, type WorkerSyntax } from './query-runner.js';
import { bodyInput, member, ParamError, provenanceOf, readQueryParams, type QueryParams, type Timers } from './opa-api.js';

export interface OpaServerOptions {
  /** Rego syntax for uploaded policies ('auto': v1, falling back to v0). */
  syntax?: PolicySyntax;
  maxBodyBytes?: number;
  /** Per-query evaluation timeout. */
  evalTimeoutMs?: number;
  /** Where decision log lines go (JSON lines); none when undefined. */
  decisionLog?: DecisionLog;
  /** Request log (pino, JSON lines): Fastify's "incoming request" / "request completed" lines. */
  logger?: Logger;
  /** The data path `POST /` answers (`system/main`, OPA's default). */
  defaultDecision?: string;
  /** The version `?provenance` and /v1/status report. */
  version?: string;
  /** Heap cap (MB) of each query worker (default 2048, see QueryRunnerOptions.maxHeapMb); a query that needs more fails with rego_limit_error. */
  maxQueryHeapMb?: number;
  /** Query worker threads (default: one per core, at most 8). */
  queryWorkers?: number;
  /**
   * Log each query's print() output on `logger` at info, as `opa run --server` does (default false).
   * Off, print() is a no-op in queries: Kata policies print on almost every step, and gathering the
   * lines costs ~7% of a CreateContainerRequest decision that nobody reads.
   */
  logPrints?: boolean;
}

interface OpaErrorBody {
  code: string;
  message: string;
  errors?: { code: string; message: string; location?: { file: string; row: number; col: number } }[];
}

function opaError(code: string, message: string, errors?: OpaErrorBody['errors']): OpaErrorBody {
  return errors ? { code, message, errors } : { code, message };
}

/** Every error a failed build reports: all of a check stage's errors, else the one thrown. */
function regoErrorDetails(error: unknown): NonNullable<OpaErrorBody['errors']> {
  return error instanceof RegoCheckError ? error.errors.map(regoErrorDetail) : [regoErrorDetail(error)];
}

function regoErrorDetail(error: unknown): NonNullable<OpaErrorBody['errors']>[number] {
  if (error instanceof ConfcomError) {
    const loc = error.location;
    const detail: NonNullable<OpaErrorBody['errors']>[number] = { code: error.code, message: error.message };
    if (loc?.file !== undefined && loc.line !== undefined) detail.location = { file: loc.file, row: loc.line, col: loc.column ?? 0 };
    return detail;
  }
  return { code: 'internal_error', message: error instanceof Error ? error.message : String(error) };
}

/** `a/b/c` -> ['a','b','c'] (URL-decoded, empty segments dropped). */
function pathSegments(raw: string | undefined): string[] {
  return (raw ?? '')
    .split('/')
    .filter((s) => s !== '')
    .map((s) => decodeURIComponent(s));
}

/** Quotes path segments into a Rego ref: data["a"]["b"]. */
function dataRef(segments: readonly string[]): string {
  return 'data' + segments.map((s) => `[${JSON.stringify(s)}]`).join('');
}

/** The server's state: policies by id and the base data document, rebuilt into one engine on change. */
class OpaState {
  readonly policies = new Map<string, string>();
  /** The syntax each policy loaded with (for 'auto', the one that parsed), handed to the query worker. */
  private syntaxes = new Map<string, WorkerSyntax>();
  baseData: Json = {};
  readonly runner: QueryRunner;
  /** The latest load handed to the worker. */
  private loaded: Promise<unknown> = Promise.resolve();
  /**
   * For /health?bundles: false from the first load until the worker holds it (the policies given at
   * start), then true for good, as OPA's bundle health stays up once the bundles activated.
   */
  ready = true;
  private activated = false;

  constructor(private readonly options: OpaServerOptions) {
    this.runner = new QueryRunner({ timeoutMs: options.evalTimeoutMs ?? 5000, maxHeapMb: options.maxQueryHeapMb, workers: options.queryWorkers, prints: options.logPrints === true && options.logger !== undefined });
  }

  private engine(): RegoEngine {
    return new RegoEngine({ strictBuiltinErrors: false, limits: { timeoutMs: this.options.evalTimeoutMs ?? 5000 } });
  }

  /**
   * Checks that a set of policies parses, compiles and passes the check stage (undefined functions,
   * unsafe variables, recursion, types), here, so an upload is answered with its errors; throws the
   * first parse error or the check stage's RegoCheckError (which lists all of its stage's errors). The
   * worker compiles them again when `sync` hands them over; nothing changes when this throws.
   */
  build(policies: Map<string, string>): void {
    const engine = this.engine();
    const syntaxes = new Map<string, WorkerSyntax>();
    for (const [id, text] of policies) {
      const syntax = this.options.syntax ?? 'auto';
      if (syntax === 'auto') {
        try {
          engine.addModule(text, id, { syntax: 'v1' });
          syntaxes.set(id, 'v1');
        } catch (v1Error) {
          try {
            engine.addModule(text, id, { syntax: 'v0' });
            syntaxes.set(id, 'v0');
          } catch {
            throw v1Error;
          }
        }
      } else {
        engine.addModule(text, id, { syntax });
        syntaxes.set(id, syntax);
      }
    }
    engine.check();
    this.syntaxes = syntaxes;
  }

  /** Hands the current policies and base data to the query worker (queued before later queries). */
  sync(): void {
    const policies = [...this.policies].map(([id, text]): [string, string, WorkerSyntax] => [id, text, this.syntaxes.get(id) ?? 'v1']);
    if (!this.activated) this.ready = false;
    const loading = this.runner.load(policies, this.baseData).then(() => {
      if (this.loaded !== loading) return;
      this.ready = true;
      this.activated = true;
    });
    this.loaded = loading;
  }
}

export async function createOpaServer(options: OpaServerOptions = {}): Promise<FastifyInstance> {
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const app = Fastify({ ...(options.logger ? { loggerInstance: options.logger } : { logger: false }), bodyLimit: maxBodyBytes }) as unknown as FastifyInstance;
  const state = new OpaState(options);
  app.addHook('onClose', () => state.runner.close());
  const version = options.version ?? '0.0.0';
  const defaultDecision = pathSegments(options.defaultDecision ?? 'system/main');
  const registry = registerHttpMetrics(app);
  const decisions = new Counter({ name: 'confcom_opa_decisions_total', help: 'data queries answered, by outcome', labelNames: ['outcome'], registers: [registry] });
  // Bound once: inc({outcome}) would hash the label object on every decision.
  const outcomes = { error: decisions.labels('error'), undefined: decisions.labels('undefined'), defined: decisions.labels('defined') };

  app.setNotFoundHandler((request, reply) => reply.code(404).send(opaError('resource_not_found', `${request.method} ${request.url.split('?')[0]} is not an API route`)));

  // Bodies are parsed here, not by Fastify: any JSON value is a valid document (`"a string"` too).
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: maxBodyBytes }, (_req, body, done) => done(null, body));

  app.addContentTypeParser('text/plain', { parseAs: 'string', bodyLimit: maxBodyBytes }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: maxBodyBytes }, (_req, body, done) => done(null, body));

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _request, reply) => {
    if (error.statusCode === 413 || error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send(opaError('invalid_parameter', `request body too large (limit ${maxBodyBytes} bytes)`));
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(400).send(opaError('invalid_parameter', error.message));
    }
    return reply.code(500).send(opaError('internal_error', error.message));
  });

  // Plain /health: the server answers. With ?bundles or ?plugins (no bundles or plugins here): also the
  // policies given at start are in the query worker.
  app.get<{ Querystring: Record<string, string | undefined> }>('/health', async (request, reply) => {
    const deep = request.query.bundles !== undefined || request.query.bundle !== undefined || request.query.plugins !== undefined;
    return !deep || state.ready ? {} : reply.code(500).send({ error: 'the policies given at start are not loaded yet' });
  });
  app.get('/v1/status', async () => ({
    result: { labels: { id: 'confcom', version }, plugins: { decision_logs: { state: options.decisionLog ? 'OK' : 'NOT_READY' }, policies: { state: state.ready ? 'OK' : 'NOT_READY' } } },
  }));

  /** Builds a set of policies as an upload or delete would leave them; on an error, answers OPA's 400 with all of it. */
  const buildOrRefuse = (policies: Map<string, string>, reply: FastifyReply): boolean => {
    try {
      state.build(policies);
      return true;
    } catch (error) {
      void reply.code(400).send(opaError('invalid_parameter', 'error(s) occurred while compiling module(s)', regoErrorDetails(error)));
      return false;
    }
  };

  app.get('/v1/policies', async () => ({ result: [...state.policies].map(([id, raw]) => ({ id, raw })) }));

  app.get<{ Params: { '*': string } }>('/v1/policies/*', async (request, reply) => {
    const id = request.params['*'];
    const raw = state.policies.get(id);
    if (raw === undefined) return reply.code(404).send(opaError('resource_not_found', `storage_not_found_error: policy id "${id}"`));
    return { result: { id, raw } };
  });

  app.put<{ Params: { '*': string }; Body: unknown }>('/v1/policies/*', async (request, reply) => {
    const id = request.params['*'];
    const text = typeof request.body === 'string' ? request.body : '';
    if (text.trim() === '') return reply.code(400).send(opaError('invalid_parameter', 'empty policy body'));
    const next = new Map(state.policies).set(id, text);
    if (!buildOrRefuse(next, reply)) return reply;
    state.policies.set(id, text);
    state.sync();
    return {};
  });

  app.delete<{ Params: { '*': string } }>('/v1/policies/*', async (request, reply) => {
    const id = request.params['*'];
    if (!state.policies.has(id)) return reply.code(404).send(opaError('resource_not_found', `storage_not_found_error: policy id "${id}"`));
    const next = new Map(state.policies);
    next.delete(id);
    // OPA refuses a delete that leaves the other modules broken (one that calls into the deleted one).
    if (!buildOrRefuse(next, reply)) return reply;
    state.policies.delete(id);
    state.sync();
    return {};
  });

  /** The members OPA adds next to a result: metrics, explanation (JSON text from the worker), provenance, decision id. */
  const extras = (params: QueryParams, timers: Timers, explanationText: string | undefined, decisionId?: string): string => {
    const parts: string[] = [];
    if (params.metrics) parts.push(`"metrics":${JSON.stringify(timers)}`);
    if (explanationText !== undefined) parts.push(`"explanation":${explanationText}`);
    if (params.provenance) parts.push(`"provenance":${JSON.stringify(provenanceOf(version))}`);
    if (decisionId !== undefined) parts.push(`"decision_id":${JSON.stringify(decisionId)}`);
    return parts.join(',');
  };
  const joined = (...parts: string[]) => `{${parts.filter((p) => p !== '').join(',')}}`;

  type Outcome = { ok: true; resultText?: string; explanationText?: string } | { ok: false; detail: NonNullable<OpaErrorBody['errors']>[number]; badBody?: true };
  /**
   * Evaluates a data path (or with `text`, an ad-hoc query) in the query worker, with a trace when an
   * explanation is asked for. With `body`, the worker takes the input from that JSON text (see
   * BodyInput); `badBody` marks text that is not JSON.
   */
  const decide = async (segments: string[], input: unknown, params: QueryParams, timers: Timers, body?: BodyInput, text?: string): Promise<Outcome> => {
    const started = process.hrtime.bigint();
    try {
      const extra = params.explain === 'off' && text === undefined ? undefined : { text, explain: params.explain === 'off' ? undefined : { mode: params.explain, pretty: params.pretty } };
      const ref = dataRef(segments);
      const answer = await state.runner.query(ref, input, body, extra);
      if (answer.ok && answer.prints) for (const line of answer.prints) options.logger?.info({ print: ref }, line);
      if (!answer.ok && answer.badBody) return { ok: false, detail: { code: answer.error.code, message: answer.error.message }, badBody: true };
      return answer.ok ? { ok: true, resultText: answer.resultText, explanationText: answer.explanationText } : { ok: false, detail: regoErrorDetail(replyError(answer)) };
    } catch (error) {
      return { ok: false, detail: regoErrorDetail(error) };
    } finally {
      timers.timer_rego_query_eval_ns = Number(process.hrtime.bigint() - started);
    }
  };

  /** Counts the outcome and logs the decision; a body the worker parsed is parsed again here only when a decision log is kept. */
  const logDecision = (request: FastifyRequest, segments: string[], input: unknown, outcome: Outcome, timers: Timers, body?: BodyInput): void => {
    outcomes[!outcome.ok ? 'error' : outcome.resultText === undefined ? 'undefined' : 'defined'].inc();
    if (!options.decisionLog) return;
    // The worker has parsed it without error, so this cannot throw.
    if (body) input = bodyInput(body);
    const result = outcome.ok && outcome.resultText !== undefined ? (JSON.parse(outcome.resultText) as Json) : undefined;
    options.decisionLog.record({ path: segments.join('/'), input, result, error: outcome.ok ? undefined : outcome.detail, durationNs: timers.timer_rego_query_eval_ns ?? 0, requestId: request.id });
  };

  const query = async (segments: string[], input: unknown, reply: FastifyReply, request: FastifyRequest, params: QueryParams, body?: BodyInput) => {
    const handlerStarted = process.hrtime.bigint();
    const timers: Timers = {};
    const outcome = await decide(segments, input, params, timers, body);
    if (!outcome.ok && outcome.badBody) return reply.code(400).send(opaError('invalid_parameter', outcome.detail.message));
    logDecision(request, segments, input, outcome, timers, body);
    timers.timer_server_handler_ns = Number(process.hrtime.bigint() - handlerStarted);
    if (!outcome.ok) return reply.code(500).send(opaError('internal_error', outcome.detail.message, [outcome.detail]));
    // The exact text goes out as it is: JSON.stringify would print a number beyond double range as null.
    const result = outcome.resultText === undefined ? '' : `"result":${outcome.resultText}`;
    return reply.type('application/json').send(joined(result, extras(params, timers, outcome.explanationText, options.decisionLog ? request.id : undefined)));
  };

  /** The URL parameters, or a 400 answer when one is malformed. */
  const paramsOf = (request: FastifyRequest, reply: FastifyReply): QueryParams | undefined => {
    try {
      return readQueryParams(request.query as Record<string, string | string[] | undefined>);
    } catch (error) {
      if (!(error instanceof ParamError)) throw error;
      void reply.code(400).send(opaError('invalid_parameter', error.message));
      return undefined;
    }
  };

  /** Path segments of a data request, or a 400 answer when one would reach an object prototype. */
  const dataSegments = (raw: string | undefined, reply: FastifyReply): string[] | undefined => {
    const segments = pathSegments(raw);
    const bad = unsafeSegment(segments);
    if (bad === undefined) return segments;
    void reply.code(400).send(opaError('invalid_parameter', `path segment ${JSON.stringify(bad)} is not allowed`));
    return undefined;
  };

  const get = async (request: FastifyRequest<{ Params: { '*'?: string } }>, reply: FastifyReply) => {
    const params = paramsOf(request, reply);
    const segments = params && dataSegments(request.params['*'], reply);
    return params && segments ? query(segments, params.input, reply, request, params) : reply;
  };
  app.get('/v1/data/*', get);
  app.get('/v1/data', get);

  /** A JSON request body (empty = undefined), or a 400 answer. */
  const bodyOf = (request: FastifyRequest, reply: FastifyReply): { value: unknown } | undefined => {
    const body: unknown = request.body;
    if (typeof body !== 'string') return { value: body };
    if (body.trim() === '') return { value: undefined };
    try {
      return { value: JSON.parse(body) };
    } catch (error) {
      void reply.code(400).send(opaError('invalid_parameter', `body is not JSON: ${(error as Error).message}`));
      return undefined;
    }
  };

  const post = async (request: FastifyRequest<{ Params: { '*'?: string }; Body: unknown }>, reply: FastifyReply) => {
    const params = paramsOf(request, reply);
    // The common case, a decision: the body text goes to the query worker as it is, which parses it there.
    if (params && params.explain === 'off' && typeof request.body === 'string') {
      const segments = dataSegments(request.params['*'], reply);
      return segments ? query(segments, undefined, reply, request, params, { text: request.body, take: 'member' }) : reply;
    }
    const body = params && bodyOf(request, reply);
    const segments = body && dataSegments(request.params['*'], reply);
    return params && body && segments ? query(segments, member(body.value, 'input'), reply, request, params) : reply;
  };
  app.post('/v1/data/*', post);
  app.post('/v1/data', post);

  // OPA's default decision: the whole body is the input and the answer is the value itself.
  app.post('/', async (request, reply) => {
    const text = typeof request.body === 'string' ? request.body : '';
    const body: BodyInput = { text, take: 'whole' };
    const timers: Timers = {};
    const outcome = await decide(defaultDecision, undefined, { explain: 'off', metrics: false, provenance: false, pretty: false }, timers, body);
    if (!outcome.ok && outcome.badBody) return reply.code(400).send(opaError('invalid_parameter', outcome.detail.message));
    logDecision(request, defaultDecision, undefined, outcome, timers, body);
    if (!outcome.ok) return reply.code(500).send(opaError('internal_error', outcome.detail.message, [outcome.detail]));
    if (outcome.resultText === undefined) return reply.code(404).send(opaError('undefined_document', `document missing or undefined: ${dataRef(defaultDecision)}`));
    return reply.type('application/json').send(outcome.resultText);
  });

  // Ad-hoc queries: `q` in the URL, or {"query", "input"} in the body.
  const adhoc = async (text: string | undefined, input: unknown, params: QueryParams, reply: FastifyReply) => {
    if (text === undefined || text.trim() === '') return reply.code(400).send(opaError('invalid_parameter', 'missing query (the q parameter, or "query" in the body)'));
    const handlerStarted = process.hrtime.bigint();
    const timers: Timers = {};
    const outcome = await decide([], input, params, timers, undefined, text);
    if (!outcome.ok) {
      const detail = outcome.detail;
      const status = detail.code.endsWith('parse_error') || detail.code.endsWith('compile_error') || detail.code === 'rego_type_error' || detail.code === 'rego_unsafe_var_error' ? 400 : 500;
      return reply.code(status).send(opaError(status === 400 ? 'invalid_parameter' : 'internal_error', detail.message, [detail]));
    }
    timers.timer_server_handler_ns = Number(process.hrtime.bigint() - handlerStarted);
    const result = outcome.resultText === undefined ? '' : `"result":${outcome.resultText}`;
    return reply.type('application/json').send(joined(result, extras(params, timers, outcome.explanationText)));
  };
  app.get('/v1/query', async (request, reply) => {
    const params = paramsOf(request, reply);
    return params ? adhoc(params.q, params.input, params, reply) : reply;
  });
  app.post('/v1/query', async (request, reply) => {
    const params = paramsOf(request, reply);
    const body = params && bodyOf(request, reply);
    if (!params || !body) return reply;
    const text = member(body.value, 'query');
    return adhoc(typeof text === 'string' ? text : params.q, member(body.value, 'input'), params, reply);
  });

  const parseJsonBody = (request: FastifyRequest<{ Body: unknown }>): Json => {
    const body = request.body;
    if (typeof body !== 'string') return body as Json;
    return JSON.parse(body) as Json;
  };

  const setBaseAt = (segments: string[], value: Json | undefined): void => {
    const base = structuredClone(state.baseData) as Record<string, Json>;
    if (segments.length === 0) {
      state.baseData = value ?? {};
    } else {
      let node: Record<string, Json> = base;
      for (const s of segments.slice(0, -1)) {
        if (typeof node[s] !== 'object' || node[s] === null || Array.isArray(node[s])) node[s] = {};
        node = node[s] as Record<string, Json>;
      }
      if (value === undefined) delete node[segments[segments.length - 1]];
      else node[segments[segments.length - 1]] = value;
      state.baseData = base;
    }
    state.sync();
  };

  app.put<{ Params: { '*': string }; Body: unknown }>('/v1/data/*', async (request, reply) => {
    let value: Json;
    try {
      value = parseJsonBody(request);
    } catch (error) {
      return reply.code(400).send(opaError('invalid_parameter', `body is not JSON: ${(error as Error).message}`));
    }
    const segments = dataSegments(request.params['*'], reply);
    if (!segments) return reply;
    setBaseAt(segments, value);
    return reply.code(204).send();
  });

  app.patch<{ Params: { '*': string }; Body: unknown }>('/v1/data/*', async (request, reply) => {
    let ops;
    try {
      ops = asPatchOperations(parseJsonBody(request));
    } catch (error) {
      return reply.code(400).send(opaError('invalid_parameter', `body is not JSON: ${(error as Error).message}`));
    }
    if (!ops) return reply.code(400).send(opaError('invalid_parameter', 'body must be a JSON Patch (array of {op, path, value?})'));
    const segments = dataSegments(request.params['*'], reply);
    if (!segments) return reply;
    let current: Json = state.baseData;
    for (const s of segments) current = (current !== null && typeof current === 'object' && !Array.isArray(current) && Object.hasOwn(current, s) ? current[s] : undefined) ?? {};
    try {
      setBaseAt(segments, applyJsonPatch(current, ops));
    } catch (error) {
      const message = error instanceof JsonPatchError ? error.message : String(error);
      return reply.code(400).send(opaError('invalid_parameter', message));
    }
    return reply.code(204).send();
  });

  return app;
}
