/** The KBS 0.4.0 payload checks: what trustee accepts, what it refuses, and how REPORT_DATA is made. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseKbsAttestation, parseKbsRequest, primaryRuntimeData, structuredReportData } from '../../../src/attest/kbs/protocol.js';
import { checkInitData, initDataField, parseInitData } from '../../../src/attest/kbs/initdata.js';
import { codeOf } from '../sim/error-code.js';

describe('KBS Request', () => {
  it('accepts version 0.4.0 and the kbs-types TEE names; refuses other versions and names as AttestationError (401)', () => {
    for (const tee of ['snp', 'sgx', 'tdx', 'az-snp-vtpm', 'az-tdx-vtpm', 'cca', 'se', 'sample']) expect(parseKbsRequest({ version: '0.4.0', tee, 'extra-params': '' })).toBe(tee);
    for (const version of ['0.4', '0.1.0', '0.4.0-rc1', '1.0.0', 4]) expect(codeOf(() => parseKbsRequest({ version, tee: 'snp' }))).toBe('kbs_version_unsupported');
    for (const tee of ['amd-sev-snp', 'SNP', '', undefined]) expect(codeOf(() => parseKbsRequest({ version: '0.4.0', tee }))).toBe('tee_unsupported');
    const meta = (tee: string) => ({ version: '0.4.0', tee: 'snp', 'extra-params': { 'tee-metadata': { primary_tee: { tee } } } });
    expect(parseKbsRequest(meta('snp'))).toBe('snp');
    expect(codeOf(() => parseKbsRequest(meta('tdx')))).toBe('tee_metadata_mismatch');
    try {
      parseKbsRequest({ version: '0.3.0', tee: 'snp' });
    } catch (error) {
      expect((error as { status: number }).status).toBe(401);
      expect((error as Error).message).toBe('KBS Client Protocol Version Mismatch: expect =0.4.0 while the request is 0.3.0');
    }
  });
});

describe('KBS Attestation', () => {
  const key = { kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', x: 'xx', y: 'yy' };
  it('reads runtime-data, tee-evidence and init-data; refuses the pre-0.4 shape', () => {
    const a = parseKbsAttestation({ 'runtime-data': { nonce: 'n', 'tee-pubkey': key }, 'tee-evidence': { primary_evidence: { r: 1 }, additional_evidence: '' }, 'init-data': { format: 'toml', body: 'x' } });
    expect(a).toMatchObject({ nonce: 'n', teePubkey: key, primaryEvidence: { r: 1 }, additionalEvidence: '', initData: { format: 'toml', body: 'x' } });
    for (const bad of [
      { 'tee-pubkey': key, 'tee-evidence': { report: 'x' } },
      { 'runtime-data': { nonce: 1, 'tee-pubkey': key }, 'tee-evidence': { primary_evidence: {} } },
      { 'runtime-data': { nonce: 'n', 'tee-pubkey': key }, 'tee-evidence': { primary_evidence: {}, additional_evidence: {} } },
      { 'runtime-data': { nonce: 'n', 'tee-pubkey': key }, 'tee-evidence': { primary_evidence: {} }, 'init-data': 'x' },
    ]) expect(codeOf(() => parseKbsAttestation(bad))).toBe('request_invalid');
  });

  it('REPORT_DATA is SHA-384 of the RFC 8785 form of {tee-pubkey, nonce, additional-evidence}, zero-padded', () => {
    const runtime = primaryRuntimeData({ nonce: 'abc=', teePubkey: key, additionalEvidence: '' });
    const jcs = '{"additional-evidence":"","nonce":"abc=","tee-pubkey":{"alg":"ECDH-ES+A256KW","crv":"P-256","kty":"EC","x":"xx","y":"yy"}}';
    const rd = structuredReportData(runtime, 'snp');
    expect(rd.subarray(0, 48)).toEqual(createHash('sha384').update(jcs).digest());
    expect(rd.subarray(48)).toEqual(Buffer.alloc(16));
    expect(structuredReportData(runtime, 'se')).toEqual(createHash('sha512').update(jcs).digest());
  });
});

describe('init-data', () => {
  const toml = 'algorithm = "sha384"\nversion = "0.1.0"\n\n[data]\n"a.toml" = "x = 1"\n';
  it('digest of the exact TOML with the named algorithm, truncated to HOST_DATA\'s 32 bytes', () => {
    const init = parseInitData('toml', toml);
    expect(init.digest).toBe(createHash('sha384').update(toml).digest('hex'));
    expect(init.data).toEqual({ 'a.toml': 'x = 1' });
    const field = initDataField(init, 32);
    expect(field).toEqual(createHash('sha384').update(toml).digest().subarray(0, 32));
    expect(() => checkInitData(init, field)).not.toThrow();
    const other = Buffer.from(field);
    other[31]! ^= 1;
    expect(codeOf(() => checkInitData(init, other))).toBe('init_data_mismatch');
  });
  it('refuses other formats, algorithms, versions and bad TOML', () => {
    expect(codeOf(() => parseInitData('json', toml))).toBe('init_data_invalid');
    expect(codeOf(() => parseInitData('toml', toml.replace('sha384', 'md5')))).toBe('init_data_invalid');
    expect(codeOf(() => parseInitData('toml', toml.replace('0.1.0', '0.2.0')))).toBe('init_data_invalid');
    expect(codeOf(() => parseInitData('toml', 'algorithm = '))).toBe('init_data_invalid');
  });
});
