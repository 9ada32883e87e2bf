/**
 * Registry credentials from a Docker config file (`~/.docker/config.json` or --docker-config) and from
 * Kubernetes pull secrets (`kubernetes.io/dockerconfigjson`). Only static `auths` entries are read
 * (no credential helpers). Credentials are never logged or put into error messages.
 */
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

export class CredentialStore {
  private readonly byHost = new Map<string, Credentials>();

  constructor(options: { dockerConfigFile?: string; pullSecrets?: unknown[] }) {
    // Pull secrets win over the local config (they are what the cluster will use).
    for (const secret of options.pullSecrets ?? []) this.addAll(authsOfPullSecret(secret));
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
        this.addAll(authsOf(JSON.parse(text)));
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
    return this.byHost.get(registry);
  }
}
