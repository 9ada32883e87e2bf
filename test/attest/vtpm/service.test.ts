/**
 * The attestation service takes `az-snp-vtpm` evidence through the registry: the wire form is trustee's
 * JSON ({version, hcl_report, tpm_quote, vcek}, plus optional certs: ASK/ARK); the runtime data's SHA-256 must be the TPM quote's
 * extraData (the claims' REPORT_DATA), and the token says `x-ms-attestation-type: azurevm`.
 */
import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { simulateAzVtpm } from '../../../src/attest/az-snp-vtpm/sim.js';
import { AttestationService } from '../../../src/attest/service/service.js';
import { SimulatedSnpChip } from '../../../src/attest/sim/snp.js';
import { createLogger } from '../../../src/core/log.js';
import { ConfcomError } from '../../../src/core/errors.js';

describe('attestation service with az-snp-vtpm evidence', () => {
  const chip = new SimulatedSnpChip();
  const runtime = Buffer.from(JSON.stringify({ key: 'workload public key' }));

  async function evidence(nonce: Buffer): Promise<Record<string, unknown>> {
    const { evidence: raw, certs } = await simulateAzVtpm(chip, { nonce });
    return { ...(JSON.parse(raw.toString()) as Record<string, unknown>), vcek: certs[0].toString('base64url'), certs: certs.slice(1).map((c) => c.toString('base64')) };
  }
  const service = (trustSimulator: boolean) => AttestationService.create({ issuer: 'https://as.test', trustSimulator, logger: createLogger({ level: 'error', json: true, write: () => {} }) });
  const body = (ev: Record<string, unknown>) => ({ evidence: ev, runtimeData: { data: runtime.toString('base64url'), dataType: 'JSON' } });
  const code = async (p: Promise<unknown>) => p.then(() => 'accepted', (e: unknown) => (e instanceof ConfcomError ? e.code : String(e)));

  it('issues an azurevm token for evidence bound to the runtime data, and refuses other bindings', async () => {
    const svc = await service(true);
    const ev = await evidence(createHash('sha256').update(runtime).digest());
    const result = await svc.attestWithRuntimeData('az-snp-vtpm', body(ev));
    const claims = decodeJwt(result.token);
    expect(claims['x-ms-attestation-type']).toBe('azurevm');
    expect((claims['x-ms-isolation-tee'] as Record<string, unknown>)['x-ms-attestation-type']).toBe('sevsnpvm');
    expect(claims['x-confcom-simulated']).toBe(true);
    expect(claims['x-ms-runtime']).toEqual({ key: 'workload public key' });
    expect(await code(svc.attestWithRuntimeData('az-snp-vtpm', body(await evidence(createHash('sha256').update('other').digest()))))).toBe('runtime_data_mismatch');
    expect(await code((await service(false)).attestWithRuntimeData('az-snp-vtpm', body(ev)))).toBe('simulator_not_trusted');
    expect(await code(svc.attestWithRuntimeData('tdx-but-unknown', body(ev)))).toBe('tee_unsupported');
  });
});
