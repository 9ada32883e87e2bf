/**
 * The local attestation service and key broker of the demo's release steps: confcom's own service
 * (src/attest/service) on loopback port 0, trusting the software TEE (INSECURE, local only), with one
 * demo secret whose release policy is bound to a HOST_DATA. Everything it starts, `close` stops.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from '../core/log.js';
import { SecretStore } from '../attest/kbs/secrets.js';
import { createAttestationServer } from '../attest/service/index.js';

export const DEMO_RESOURCE = { repository: 'default', type: 'key', tag: 'demo-secret' } as const;
export const DEMO_RESOURCE_PATH = `${DEMO_RESOURCE.repository}/${DEMO_RESOURCE.type}/${DEMO_RESOURCE.tag}`;

export interface LocalBroker {
  url: string;
  /** The released-secret audit: one entry per release decision (allow or deny), no secret material. */
  decisions: { message: string; fields: Record<string, unknown> }[];
  close(): Promise<void>;
}

export interface LocalBrokerOptions {
  /** HOST_DATA (hex) the release policy requires. */
  hostData: string;
  secret: Buffer;
  /** More secrets under the same release policy, by path in the secrets directory (e.g. Key Vault keys at `keys/<name>/<version>`). */
  more?: Record<string, Buffer>;
  logger?: Logger;
}

export async function startLocalBroker(options: LocalBrokerOptions): Promise<LocalBroker> {
  const dir = await mkdtemp(join(tmpdir(), 'confcom-broker-'));
  const decisions: LocalBroker['decisions'] = [];
  const record = (level: 'info' | 'warn') => (message: string, fields: Record<string, unknown> = {}) => {
    if (message.startsWith('release')) decisions.push({ message, fields });
    options.logger?.[level](message, fields);
  };
  const logger: Logger = { level: 'info', color: false, json: false, debug: () => undefined, info: record('info'), warn: record('warn'), error: record('warn') };
  try {
    const typeDir = join(dir, DEMO_RESOURCE.repository, DEMO_RESOURCE.type);
    await mkdir(typeDir, { recursive: true });
    await writeFile(join(typeDir, DEMO_RESOURCE.tag), options.secret, { mode: 0o600 });
    for (const [path, value] of Object.entries(options.more ?? {})) {
      await mkdir(join(dir, dirname(path)), { recursive: true });
      await writeFile(join(dir, path), value, { mode: 0o600 });
    }
    const { app, service } = await createAttestationServer({ issuer: 'http://pending', trustSimulator: true, secrets: new SecretStore(dir), logger });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    service.issuer = url;
    // The release policy names the issuer, so it is written once the port is known.
    const policy = { version: '1.0.0', anyOf: [{ authority: url, allOf: [{ claim: 'x-ms-sevsnpvm-hostdata', equals: options.hostData }] }] };
    await writeFile(join(dir, 'release-policy.json'), JSON.stringify(policy));
    return {
      url,
      decisions,
      close: async () => {
        await app.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
