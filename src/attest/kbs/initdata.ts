/**
 * CoCo's init-data (trustee kbs/docs/initdata.md): a TOML document `{version, algorithm, [data]}` whose
 * digest the host puts in the TEE's init-data field (SEV-SNP HOST_DATA, 32 bytes). As trustee's
 * attestation service and Kata do, the digest is the named hash (sha256/sha384/sha512) of the exact TOML
 * bytes, truncated or zero-padded to the field. The `data` table becomes the token's init-data claims.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { parse as parseToml } from 'smol-toml';
import { attestationError } from './protocol.js';

const ALGORITHMS: Record<string, string> = { sha256: 'sha256', 'sha-256': 'sha256', sha384: 'sha384', 'sha-384': 'sha384', sha512: 'sha512', 'sha-512': 'sha512' };

export interface InitData {
  algorithm: string;
  version: string;
  /** Hex of the full digest. */
  digest: string;
  data: Record<string, unknown>;
}

export function parseInitData(format: string, body: string): InitData {
  if (format !== 'toml') throw attestationError('init_data_invalid', `Unsupported initdata format: ${format.slice(0, 16)}`, 'send init-data as {"format": "toml", "body": <TOML text>}');
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(body) as Record<string, unknown>;
  } catch (error) {
    throw attestationError('init_data_invalid', `init-data is not valid TOML: ${(error as Error).message.split('\n')[0]}`);
  }
  const algorithm = ALGORITHMS[String(doc.algorithm)];
  if (!algorithm) throw attestationError('init_data_invalid', `init-data algorithm '${String(doc.algorithm).slice(0, 16)}' is not sha256, sha384 or sha512`);
  if (doc.version !== '0.1.0') throw attestationError('init_data_invalid', `init-data version '${String(doc.version).slice(0, 16)}' is not 0.1.0`);
  const data = typeof doc.data === 'object' && doc.data !== null && !Array.isArray(doc.data) ? (doc.data as Record<string, unknown>) : {};
  return { algorithm, version: doc.version, digest: createHash(algorithm).update(body, 'utf8').digest('hex'), data };
}

/** The digest as the TEE field holds it (`size` bytes: truncated or zero-padded). */
export function initDataField(init: InitData, size: number): Buffer {
  const out = Buffer.alloc(size);
  Buffer.from(init.digest, 'hex').copy(out, 0, 0, size);
  return out;
}

/** Refuses init-data whose digest is not the TEE's init-data field. */
export function checkInitData(init: InitData, field: Buffer): void {
  const expected = initDataField(init, field.length);
  if (!timingSafeEqual(expected, field)) {
    throw attestationError('init_data_mismatch', 'the init-data digest does not equal the evidence\'s HOST_DATA', 'send the exact init-data TOML the TEE was launched with');
  }
}
