/**
 * An HTTP server compatible with the parts of OPA's REST API that the Kata agent (and tooling around
 * it) used: policies, data documents, health. One engine holds every policy module and the base data.
 *
 *   PUT    /v1/policies/{id}     Rego text body; 200 {} | 400 {code, message, errors[]}
 *   GET    /v1/policies/{id}     200 {result: {id, raw}} | 404
 *   GET    /v1/policies          200 {result: [{id, raw}]}
 *   DELETE /v1/policies/{id}     200 {} | 404
 *   POST   /v1/data/{path}       {"input": ...} -> 200 {result} (no `result` key when undefined)
 *   GET    /v1/data/{path}       200 {result}
 *   PUT    /v1/data/{path}       JSON body replaces the base document; 204
 *   PATCH  /v1/data/{path}       JSON Patch on the base document; 204
 *   GET    /health               200 {}
 *
 * Bodies above `maxBodyBytes` get 413. Each query runs under the engine's step and time limits, in a
 * worker thread with a hard deadline and a memory cap (query-runner.ts), so /health and other clients
 * are answered while a bad query runs; a query that errors answers 500 with OPA's error body and the
 * server keeps serving. Data paths through `__proto__`, `constructor` or `prototype` are refused (400).
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { RegoEngine } from '../../rego/index.js';
import type { Json } from '../../rego/value.js';
import { ConfcomError } from '../../core/errors.js';
import type { PolicySyntax } from '../enforcer.js';
import { applyJsonPatch, asPatchOperations, JsonPatchError } from '../json-patch.js';
import { unsafeSegment } from '../../rego/safe-path.js';
import { DecisionLog } from './decision-log.js';
import { QueryRunner, replyError, type WorkerSyntax } from './query-runner.js';

export interface OpaServerOptions {
  /** Rego syntax for uploaded policies ('auto': v1, falling back to v0). */
  syntax?: PolicySyntax;
  maxBodyBytes?: number;
  /** Per-query evaluation timeout. */
  evalTimeoutMs?: number;
  /** Where decision log lines go (JSON lines); none when undefined. */
  decisionLog?: DecisionLog;
  /** Emit Fastify's own request log. */
  logger?: boolean;
  /** Heap cap (MB) of the query worker; a query that needs more fails with rego_limit_error. */
  maxQueryHeapMb?: number;
}

interface OpaErrorBody {
  code: string;
  message: string;
  errors?: { code: string; message: string; location?: { file: string; row: number; col: number } }[];
}

function opaError(code: string, message: string, errors?: OpaErrorBody['errors']): OpaErrorBody {
  return errors ? { code, message, errors } : { code, message };
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

  constructor(private readonly options: OpaServerOptions) {
    this.runner = new QueryRunner({ timeoutMs: options.evalTimeoutMs ?? 5000, maxHeapMb: options.maxQueryHeapMb });
  }

  /**
   * Checks that a set of policies compiles, here, so an upload is answered with its errors; throws the
   * first parse/compile error. The worker compiles them again when `sync` hands them over.
   */
  build(policies: Map<string, string>): void {
    const engine = new RegoEngine({ strictBuiltinErrors: false });
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
    this.syntaxes = syntaxes;
  }

  /** Hands the current policies and base data to the query worker (queued before later queries). */
  sync(): void {
    const policies = [...this.policies].map(([id, text]): [string, string, WorkerSyntax] => [id, text, this.syntaxes.get(id) ?? 'v1']);
    void this.runner.load(policies, this.baseData);
  }
}

export async function createOpaServer(options: OpaServerOptions = {}): Promise<FastifyInstance> {
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: maxBodyBytes });
  const state = new OpaState(options);
  app.addHook('onClose', () => state.runner.close());

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

  app.get('/health', async () => ({}));

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
    try {
      state.build(next);
    } catch (error) {
      return reply.code(400).send(opaError('invalid_parameter', 'error(s) occurred while compiling module(s)', [regoErrorDetail(error)]));
    }
    state.policies.set(id, text);
    state.sync();
    return {};
  });

  app.delete<{ Params: { '*': string } }>('/v1/policies/*', async (request, reply) => {
    const id = request.params['*'];
    if (!state.policies.has(id)) return reply.code(404).send(opaError('resource_not_found', `storage_not_found_error: policy id "${id}"`));
    const next = new Map(state.policies);
    next.delete(id);
    state.build(next);
    state.policies.delete(id);
    state.sync();
    return {};
  });

  const query = async (segments: string[], input: unknown, reply: FastifyReply, request: FastifyRequest) => {
    const started = process.hrtime.bigint();
    const answer = await state.runner.query(dataRef(segments), input);
    const durationNs = Number(process.hrtime.bigint() - started);
    if (answer.ok) {
      if (answer.resultText === undefined) {
        options.decisionLog?.record({ path: segments.join('/'), input, durationNs, requestId: request.id });
        return {};
      }
      if (options.decisionLog) options.decisionLog.record({ path: segments.join('/'), input, result: JSON.parse(answer.resultText) as Json, durationNs, requestId: request.id });
      // The exact text goes out as it is: JSON.stringify would print a number beyond double range as null.
      return reply.type('application/json').send(`{"result":${answer.resultText}}`);
    }
    const detail = regoErrorDetail(replyError(answer));
    options.decisionLog?.record({ path: segments.join('/'), input, error: detail, durationNs, requestId: request.id });
    return reply.code(500).send(opaError('internal_error', detail.message, [detail]));
  };

  /** Path segments of a data request, or a 400 answer when one would reach an object prototype. */
  const dataSegments = (raw: string | undefined, reply: FastifyReply): string[] | undefined => {
    const segments = pathSegments(raw);
    const bad = unsafeSegment(segments);
    if (bad === undefined) return segments;
    void reply.code(400).send(opaError('invalid_parameter', `path segment ${JSON.stringify(bad)} is not allowed`));
    return undefined;
  };

  app.get<{ Params: { '*': string } }>('/v1/data/*', async (request, reply) => {
    const segments = dataSegments(request.params['*'], reply);
    return segments ? query(segments, undefined, reply, request) : reply;
  });
  app.get('/v1/data', async (request, reply) => query([], undefined, reply, request));

  const post = async (request: FastifyRequest<{ Params: { '*'?: string }; Body: unknown }>, reply: FastifyReply) => {
    let body: unknown = request.body;
    if (typeof body === 'string') {
      if (body.trim() === '') body = {};
      else {
        try {
          body = JSON.parse(body);
        } catch (error) {
          return reply.code(400).send(opaError('invalid_parameter', `body is not JSON: ${(error as Error).message}`));
        }
      }
    }
    const input = typeof body === 'object' && body !== null && Object.hasOwn(body, 'input') ? (body as { input?: unknown }).input : undefined;
    const segments = dataSegments(request.params['*'], reply);
    return segments ? query(segments, input, reply, request) : reply;
  };
  app.post('/v1/data/*', post);
  app.post('/v1/data', post);

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
