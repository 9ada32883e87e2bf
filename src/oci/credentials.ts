/**
 * Registry credentials from a Docker config file (`~/.docker/config.json` or --docker-config) and from
 * Kubernetes pull secrets (`kubernetes.io/dockerconfigjson`). Precedence, as Docker's: pull secrets (what
 * the cluster will use), then the config's `credHelpers` entry for the registry, then its `credsStore`,
 * then static `auths`. A helper is Docker's credential-helper protocol: `docker-credential-<name> get`
 * with the server URL on stdin, JSON `{ServerURL, Username, Secret}` on stdout. Credentials are never
 * logged or put into error messages.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfcomError } from '../core/errors.js';

export interface Credentials {
  username: string;
  password: string;
}

type Auths = Record<string, { auth?: string; username?: string; password?: string }>;

function hostOf(key: string): string {
  const host = key.replace(/^https?:\/\//, '').split('/')[0];
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

function decode(entry: Auths[string]): Credentials | undefined {
  if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
  if (!entry.auth) return undefined;
  const text = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

function authsOf(doc: unknown): Auths {
  if (doc && typeof doc === 'object' && 'auths' in doc && doc.auths && typeof doc.auths === 'object') return doc.auths as Auths;
  return {};
}

/** Pull secret: a Secret object (data['.dockerconfigjson'] base64) or an already decoded config. */
function authsOfPullSecret(secret: unknown): Auths {
  if (!secret || typeof secret !== 'object') return {};
  const data = (secret as { data?: Record<string, string> }).data;
  const encoded = data?.['.dockerconfigjson'];
  if (typeof encoded === 'string') {
    try {
      return authsOf(JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')));
    } catch {
      throw new ConfcomError('pull_secret_invalid', 'a pull secret\'s .dockerconfigjson is not base64-encoded JSON', { hint: 'create it with kubectl create secret docker-registry' });
    }
  }
  return authsOf(secret);
}

const HELPER_TIMEOUT_MS = 10_000;

/** What a helper is asked for: Docker Hub under its historical index URL, other registries by host. */
function serverUrlOf(registry: string): string {
  return registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
}

/** Runs `docker-credential-<helper> get`; undefined when the helper has nothing for this registry. */
function fromHelper(helper: string, registry: string): Credentials | undefined {
  const program = `docker-credential-${helper}`;
  let out: string;
  try {
    out = execFileSync(program, ['get'], { input: serverUrlOf(registry), timeout: HELPER_TIMEOUT_MS, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stdout?: string; status?: number | null };
    if (e.code === 'ENOENT') {
      throw new ConfcomError('credential_helper_missing', `credential helper ${program} (for registry ${registry}) is not installed`, { hint: `install ${program}, or remove it from credHelpers/credsStore in the Docker config` });
    }
    // The protocol's "not found" answer is a failing exit with that text on stdout.
    if (typeof e.status === 'number' && /credentials not found/i.test(String(e.stdout ?? ''))) return undefined;
    throw new ConfcomError('credential_helper_failed', `credential helper ${program} failed for registry ${registry}${e.code === 'ETIMEDOUT' ? ` (no answer within ${HELPER_TIMEOUT_MS / 1000} s)` : ''}`, { hint: `run 'echo ${serverUrlOf(registry)} | ${program} get' to see its error` });
  }
  let answer: { Username?: unknown; Secret?: unknown };
  try {
    answer = JSON.parse(out) as typeof answer;
  } catch {
    throw new ConfcomError('credential_helper_failed', `credential helper ${program} answered for registry ${registry} with something that is not JSON`, { hint: 'check the helper; it must print {"ServerURL","Username","Secret"}' });
  }
  if (typeof answer.Username !== 'string' || typeof answer.Secret !== 'string') return undefined;
  if (answer.Username === '<token>') {
    throw new ConfcomError('credential_helper_unsupported', `credential helper ${program} holds an identity token for registry ${registry}, which confcom cannot use yet`, { hint: 'log in with a username and password (or a pull secret) for this registry' });
  }
  return { username: answer.Username, password: answer.Secret };
}

export class CredentialStore {
  private readonly byHost = new Map<string, Credentials>();
  private readonly helpers = new Map<string, string>();
  private store: string | undefined;
  private readonly asked = new Map<string, Credentials | undefined>();
  private readonly fromSecrets = new Set<string>();

  constructor(options: { dockerConfigFile?: string; pullSecrets?: unknown[] }) {
    // Pull secrets win over the local config (they are what the cluster will use).
    for (const secret of options.pullSecrets ?? []) this.addAll(authsOfPullSecret(secret));
    for (const host of this.byHost.keys()) this.fromSecrets.add(host);
    const file = options.dockerConfigFile ?? join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if (options.dockerConfigFile !== undefined) {
        throw new ConfcomError('docker_config_unreadable', `cannot read Docker config file ${file}`, { location: { file }, hint: 'check the --docker-config path', cause: error });
      }
    }
    if (text !== undefined) {
      try {
        const doc = JSON.parse(text) as { credHelpers?: unknown; credsStore?: unknown };
        this.addAll(authsOf(doc));
        if (doc.credHelpers && typeof doc.credHelpers === 'object') {
          for (const [key, helper] of Object.entries(doc.credHelpers)) if (typeof helper === 'string') this.helpers.set(hostOf(key), helper);
        }
        if (typeof doc.credsStore === 'string' && doc.credsStore !== '') this.store = doc.credsStore;
      } catch {
        throw new ConfcomError('docker_config_invalid', `Docker config file ${file} is not valid JSON`, { location: { file }, hint: 'fix or remove the file' });
      }
    }
  }

  private addAll(auths: Auths): void {
    for (const [key, entry] of Object.entries(auths)) {
      const creds = decode(entry);
      const host = hostOf(key);
      if (creds && !this.byHost.has(host)) this.byHost.set(host, creds);
    }
  }

  get(registry: string): Credentials | undefined {
    if (this.fromSecrets.has(registry)) return this.byHost.get(registry);
    const helper = this.helpers.get(registry) ?? this.store;
    if (helper === undefined) return this.byHost.get(registry);
    if (!this.asked.has(registry)) this.asked.set(registry, fromHelper(helper, registry) ?? this.byHost.get(registry));
    return this.asked.get(registry);
  }
}
