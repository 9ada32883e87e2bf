/**
 * Registry HTTP API v2 client (the OCI distribution spec): manifests and blobs, with the two auth
 * schemes registries use: Basic (credentials sent on every request after a `Basic` challenge) and
 * Bearer (a token from the challenge's realm, requested with the credentials when there are any).
 * HTTPS always, except for registries the caller names insecure. Digests are checked by the caller.
 */
import { ImageError } from './errors.js';
import { DEFAULT_HTTP_POLICY, fetchWithRetry, HttpFailure, type GuardedResponse, type HttpPolicy } from './http.js';
import type { CredentialStore, Credentials } from './credentials.js';
import { MANIFEST_ACCEPT, emptyStream, type FetchedManifest, type ImageSource } from './source.js';

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export function parseChallenge(header: string): Challenge {
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.slice(space + 1).matchAll(/(\w+)="([^"]*)"/g)) params[m[1].toLowerCase()] = m[2];
  return { scheme, params };
}

/** Manifests and indexes are small JSON documents; anything larger is refused before parsing. */
const MAX_MANIFEST_BYTES = 4 << 20;

const basic = (c: Credentials) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

export class RegistrySource implements ImageSource {
  readonly origin: string;
  private readonly base: string;
  /** The Authorization header that worked last, per repository scope. */
  private readonly authorization = new Map<string, string>();

  constructor(
    private readonly registry: string,
    private readonly image: string,
    private readonly credentials: CredentialStore,
    options: { insecure: boolean; signal?: AbortSignal; http?: Partial<HttpPolicy> },
  ) {
    this.origin = `registry ${registry}`;
    const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
    this.base = `${options.insecure ? 'http' : 'https'}://${host}/v2`;
    this.signal = options.signal;
    this.http = { ...DEFAULT_HTTP_POLICY, ...options.http };
  }

  private readonly signal: AbortSignal | undefined;
  private readonly http: HttpPolicy;

  async manifest(repository: string, tagOrDigest: string): Promise<FetchedManifest> {
    const response = await this.get(repository, `/${repository}/manifests/${tagOrDigest}`, MANIFEST_ACCEPT, tagOrDigest);
    const bytes = await this.readLimited(response, MAX_MANIFEST_BYTES);
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new ImageError('image_unsupported', `manifest of ${bytes.length} bytes exceeds the ${MAX_MANIFEST_BYTES}-byte limit`, { image: this.image, hint: 'the registry served something that is not a manifest' });
    }
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0].trim();
    // By tag, the registry's Docker-Content-Digest (when sent) is what the bytes must hash to.
    const expected = tagOrDigest.startsWith('sha256:') ? tagOrDigest : (response.headers.get('docker-content-digest') ?? undefined);
    return { bytes, mediaType, ...(expected === undefined ? {} : { expectedDigest: expected }) };
  }

  async blob(repository: string, digest: string): Promise<AsyncIterable<Uint8Array>> {
    const path = `/${repository}/blobs/${digest}`;
    const response = await this.get(repository, path, '*/*', digest);
    if (!response.body) return emptyStream();
    return this.failing(this.resuming(repository, path, digest, response), digest);
  }

  /**
   * A blob body that survives the connection dropping mid-way (a reset, a read timeout): it asks again
   * for the rest (`Range: bytes=N-`) with backoff, up to the policy's retries, and goes on from byte N.
   * A registry that ignores the range and sends the whole blob again (200) has its first N bytes
   * skipped. The caller checks the digest of the whole, so a resumed blob is verified like any other.
   */
  private async *resuming(repository: string, path: string, digest: string, first: GuardedResponse): AsyncGenerator<Uint8Array> {
    let response = first;
    let delivered = 0;
    for (let resumes = 0; ; ) {
      let skip = response.status === 206 ? 0 : delivered;
      try {
        for await (const chunk of response.stream()) {
          if (skip >= chunk.length) {
            skip -= chunk.length;
            continue;
          }
          const part = skip > 0 ? chunk.subarray(skip) : chunk;
          skip = 0;
          delivered += part.length;
          yield part;
        }
        return;
      } catch (cause) {
        if (this.signal?.aborted || resumes >= this.http.retries) throw cause;
        resumes++;
        await new Promise((resolve) => setTimeout(resolve, this.http.minBackoffMs * 2 ** (resumes - 1)));
        response = await this.get(repository, path, '*/*', digest, { range: `bytes=${delivered}-` });
        if (response.status !== 206 && response.status !== 200) throw cause;
      }
    }
  }

  /** Reads at most `limit` + 1 bytes (enough to tell the body is too large). */
  private async readLimited(response: GuardedResponse, limit: number): Promise<Buffer> {
    const chunks: Uint8Array[] = [];
    let length = 0;
    for await (const chunk of this.failing(response.stream(), 'manifest')) {
      chunks.push(chunk);
      length += chunk.length;
      if (length > limit) break;
    }
    return Buffer.concat(chunks);
  }

  /** A body that stops mid-way (reset, read timeout) fails as a registry error naming the blob. */
  private async *failing(body: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
    try {
      yield* body;
    } catch (cause) {
      const detail = cause instanceof Error ? cause.message : String(cause);
      throw new ImageError('registry_error', `${this.origin} stopped sending ${what}: ${detail}`, { image: this.image, cause, hint: 'retry; a slow or flaky network may need a closer mirror' });
    }
  }

  private async get(repository: string, path: string, accept: string, what: string, extra: Record<string, string> = {}): Promise<GuardedResponse> {
    const url = `${this.base}${path}`;
    let auth = this.authorization.get(repository);
    let response = await this.fetch(url, accept, auth, extra);
    if (response.status === 401) {
      await response.body?.cancel();
      auth = await this.authenticate(repository, response.headers.get('www-authenticate') ?? '');
      response = await this.fetch(url, accept, auth, extra);
      if (response.status === 401 || response.status === 403) {
        await response.body?.cancel();
        throw this.unauthorized(repository);
      }
    }
    if (response.status === 403) throw this.unauthorized(repository);
    if (response.status === 404) {
      await response.body?.cancel();
      throw new ImageError('image_not_found', `${what.startsWith('sha256:') ? 'content' : `tag '${what}'`} not found in ${this.origin}`, {
        image: this.image,
        ...(what.startsWith('sha256:') ? { digest: what } : {}),
        hint: 'check the image name and tag (docker.io images without a registry get the library/ prefix)',
      });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new ImageError('registry_error', `${this.origin} answered HTTP ${response.status} for ${path}`, { image: this.image, hint: 'retry later or check the registry' });
    }
    return response;
  }

  private async fetch(url: string | URL, accept: string, authorization: string | undefined, extra: Record<string, string> = {}): Promise<GuardedResponse> {
    try {
      return await fetchWithRetry(url, { headers: { accept, ...extra, ...(authorization ? { authorization } : {}) }, redirect: 'follow' }, this.http, this.signal);
    } catch (cause) {
      if (!(cause instanceof HttpFailure)) throw cause;
      const tries = cause.attempts > 1 ? ` (after ${cause.attempts} attempts)` : '';
      throw new ImageError('registry_error', `cannot reach ${this.origin}: ${cause.message}${tries}`, {
        image: this.image,
        cause,
        hint: 'check the registry address and the network (a registry over plain HTTP must be named with --insecure-registry); ' +
          'without a registry, use --offline with a cache filled by an earlier run, or --image-source oci-layout:DIR / docker-archive:FILE',
      });
    }
  }

  private async authenticate(repository: string, header: string): Promise<string> {
    const challenge = parseChallenge(header);
    const creds = this.credentials.get(this.registry);
    let authorization: string;
    if (challenge.scheme === 'basic') {
      if (!creds) throw this.unauthorized(repository);
      authorization = basic(creds);
    } else if (challenge.scheme === 'bearer' && challenge.params.realm) {
      const url = new URL(challenge.params.realm);
      if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
      url.searchParams.set('scope', challenge.params.scope ?? `repository:${repository}:pull`);
      const response = await fetchWithRetry(url, { headers: creds ? { authorization: basic(creds) } : {} }, this.http, this.signal).catch((cause: unknown) => {
        if (!(cause instanceof HttpFailure)) throw cause;
        throw new ImageError('registry_unauthorized', `cannot reach the token service of ${this.origin}: ${cause.message}`, { image: this.image, cause, hint: 'check network access to the registry\'s auth realm' });
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw this.unauthorized(repository);
      }
      const body = (await response.json()) as { token?: string; access_token?: string };
      const token = body.token ?? body.access_token;
      if (!token) throw this.unauthorized(repository);
      authorization = `Bearer ${token}`;
    } else {
      throw this.unauthorized(repository);
    }
    this.authorization.set(repository, authorization);
    return authorization;
  }

  private unauthorized(repository: string): ImageError {
    const hasCreds = this.credentials.get(this.registry) !== undefined;
    return new ImageError('registry_unauthorized', `${this.origin} refused access to '${repository}'`, {
      image: this.image,
      hint: hasCreds
        ? `the credentials for ${this.registry} were rejected; update them in the Docker config file or pull secret`
        : `log in to ${this.registry} (docker login) or pass --docker-config / a pull secret with credentials for it`,
    });
  }
}
