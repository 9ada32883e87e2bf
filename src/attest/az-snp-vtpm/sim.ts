/**
 * Simulated Azure vTPM evidence: the simulated SNP chip's report inside an HCL report whose runtime
 * data carries a fresh RSA attestation key, and a TPM2 quote by that key over 24 SHA-256 PCRs with
 * the caller's nonce as extraData. Only for tests and the local mode (the chip is the simulator's).
 */
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { SimulatedSnpChip } from '../sim/snp.js';
import { serialiseHclReport, serialiseTpmsAttest } from './abi.js';

export interface SimVtpmFields {
  nonce: Buffer;
  pcrs?: Buffer[];
  userData?: string;
}

export interface SimVtpmEvidence {
  /** The JSON document, as trustee's attester sends it. */
  evidence: Buffer;
  /** The chain for the SNP report (VCEK, ASK, ARK of the simulated chip). */
  certs: Buffer[];
}

const PCRS = Array.from({ length: 24 }, (_, i) => i);

export async function simulateAzVtpm(chip: SimulatedSnpChip, fields: SimVtpmFields): Promise<SimVtpmEvidence> {
  const ak = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = ak.publicKey.export({ format: 'jwk' });
  const runtime = Buffer.from(
    JSON.stringify({
      keys: [{ kid: 'HCLAkPub', key_ops: ['sign'], kty: 'RSA', e: jwk.e, n: jwk.n }],
      'vm-configuration': { 'console-enabled': true, 'secure-boot': true, 'tpm-enabled': true, vmUniqueId: randomBytes(16).toString('hex') },
      'user-data': fields.userData ?? '0'.repeat(128),
    }),
  );
  const reportData = Buffer.concat([createHash('sha256').update(runtime).digest(), Buffer.alloc(32)]);
  const { report, certs } = await chip.report({ reportData });
  const pcrs = fields.pcrs ?? PCRS.map((i) => createHash('sha256').update(`pcr ${i}`).digest());
  const message = serialiseTpmsAttest(fields.nonce, PCRS, createHash('sha256').update(Buffer.concat(pcrs)).digest());
  const signature = sign('sha256', message, ak.privateKey);
  const doc = {
    version: 1,
    hcl_report: serialiseHclReport(report, runtime).toString('base64url'),
    tpm_quote: { message: message.toString('hex'), pcrs: pcrs.map((p) => p.toString('hex')), signature: signature.toString('hex') },
  };
  return { evidence: Buffer.from(JSON.stringify(doc)), certs };
}
