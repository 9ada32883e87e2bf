/**
 * Strict DER over the real vectors: every single-byte edit of a certificate or CRL is refused, and
 * every edit of a collateral signature either is refused or decodes to the very same signature bytes
 * (hex case), i.e. provably changes nothing signed. Bytes outside the signed TBS (the envelope: outer
 * header, AlgorithmIdentifier, BIT STRING header) get all 255 replacement values; bytes inside the
 * TBS and the signature value get three (xor 0x01, 0x80, 0xff), since any change there alters the
 * signed bytes or the signature and the cryptographic check decides.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { children, readOne } from '../../../src/attest/certs/der.js';
import { checkCrl, isIssuedBy, parseCertificates, parseCrl } from '../../../src/attest/certs/x509.js';
import { readCollateral, verifyCollateral, clearCollateralCache } from '../../../src/attest/sgx/collateral.js';
import { ConfcomError } from '../../../src/core/errors.js';
import { sharedPath } from '../../helpers/shared.js';

const vectors = sharedPath('attestation-vectors');
const AT = new Date('2025-07-01T00:00:00Z');

/** Every single-byte edit: all values where the byte is outside `tbs`/`signature`, three values inside. */
function* edits(der: Buffer): Generator<Buffer> {
  const outer = readOne(der);
  const [tbs, , sig] = children(outer);
  const tbsStart = outer.raw.length - outer.value.length;
  const tbsEnd = tbsStart + tbs.raw.length;
  const sigPayload = der.length - sig.value.length + 1;
  for (let i = 0; i < der.length; i++) {
    const envelope = i < tbsStart + 4 || (i >= tbsEnd && i < sigPayload);
    const values = envelope ? Array.from({ length: 256 }, (_, v) => v) : [der[i] ^ 0x01, der[i] ^ 0x80, der[i] ^ 0xff];
    for (const v of values) {
      if (v === der[i]) continue;
      const edited = Buffer.from(der);
      edited[i] = v;
      yield edited;
    }
  }
}

function accepted(fn: () => boolean): boolean {
  try {
    return fn();
  } catch (error) {
    if (error instanceof ConfcomError) return false;
    throw error;
  }
}

/** Gives the event loop a turn now and then: the loops run for seconds and the test runner must stay responsive. */
const breathe = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function countAccepted(der: Buffer, check: (edited: Buffer) => boolean): Promise<{ tried: number; accepted: number }> {
  let tried = 0;
  let accepted = 0;
  for (const edited of edits(der)) {
    tried++;
    if (check(edited)) accepted++;
    if (tried % 256 === 0) await breathe();
  }
  return { tried, accepted };
}

// vitest runs a skipped suite's body to collect it, and this body reads the vectors: so no suite without them.
if (!vectors) describe.skip('every single-byte edit of the real DER structures is refused', () => it('needs ../shared/attestation-vectors', () => undefined));
else describe('every single-byte edit of the real DER structures is refused', () => {
  const base = vectors as string;
  const pem = (file: string): X509Certificate[] => parseCertificates(readFileSync(join(base, file)));
  const collateral = JSON.parse(readFileSync(join(base, 'sgx/dcap-qvl/collateral.json'), 'utf8')) as Record<string, string>;
  const quote = readFileSync(join(base, 'sgx/dcap-qvl/quote.bin'));
  const pckChain = parseCertificates(quote.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)?.join('\n') ?? '');
  const tcbChain = parseCertificates(collateral.tcb_info_issuer_chain);
  const crlChain = parseCertificates(collateral.pck_crl_issuer_chain);
  const [ask, ark] = pem('snp/go-sev-guest/ask_ark.pem');
  const intelRoot = tcbChain[tcbChain.length - 1];

  const certCases: [string, Buffer, X509Certificate][] = [
    ['go-sev-guest VCEK', readFileSync(join(base, 'snp/go-sev-guest/vcek.der')), ask],
    ['virtee VCEK', readFileSync(join(base, 'snp/virtee-milan/vcek.der')), ask],
    ['Milan ASK (RSA-PSS)', ask.raw, ark],
    ['Milan ARK (self-signed RSA-PSS)', ark.raw, ark],
    ['SGX PCK certificate (from the quote)', pckChain[0].raw, pckChain[1]],
    ['SGX PCK platform CA', pckChain[1].raw, intelRoot],
    ['Intel SGX TCB signing certificate', tcbChain[0].raw, intelRoot],
    ['Intel SGX Root CA (self-signed)', intelRoot.raw, intelRoot],
  ];

  it.each(certCases)('%s: the original verifies, no edit does', async (_name, der, issuer) => {
    const selfSigned = der.equals(issuer.raw);
    const check = (bytes: Buffer): boolean =>
      accepted(() => {
        const [cert] = parseCertificates(bytes);
        return isIssuedBy(cert, selfSigned ? cert : issuer);
      });
    expect(check(der)).toBe(true);
    const { tried, accepted: n } = await countAccepted(der, check);
    expect(tried).toBeGreaterThan(der.length * 3);
    expect(n, `${n} of ${tried} edits accepted`).toBe(0);
  }, 300_000);

  const crlCases: [string, string, X509Certificate][] = [
    ['PCK CRL', collateral.pck_crl, crlChain[0]],
    ['Root CA CRL', collateral.root_ca_crl, intelRoot],
  ];

  it.each(crlCases)('%s (hex DER in the collateral): the original verifies, no edit does', async (_name, hex, issuer) => {
    const der = Buffer.from(hex, 'hex');
    const check = (bytes: Buffer): boolean =>
      accepted(() => {
        checkCrl(parseCrl(bytes.toString('hex')), issuer, [], AT, 'CRL');
        return true;
      });
    expect(check(der)).toBe(true);
    const { tried, accepted: n } = await countAccepted(der, check);
    expect(tried).toBeGreaterThan(der.length * 3);
    expect(n, `${n} of ${tried} edits accepted`).toBe(0);
  });

  it('refuses the CRL edits the issue named: outer SEQUENCE tag, AlgorithmIdentifier tag, OID tag, unused-bits byte', () => {
    const der = Buffer.from(collateral.pck_crl, 'hex');
    const outer = readOne(der);
    const [tbs, alg, sig] = children(outer);
    const algAt = outer.raw.length - outer.value.length + tbs.raw.length;
    const unusedAt = der.length - sig.value.length;
    for (const [at, value] of [[0, 0x31], [algAt, 0x31], [algAt + 2, 0x05], [unusedAt, 0x01]] as const) {
      const edited = Buffer.from(der);
      edited[at] = value;
      expect(() => parseCrl(edited), `byte ${at} -> ${value}`).toThrow(/cannot be read/);
    }
    expect(alg.raw.length).toBeGreaterThan(0);
  });

  it.each(['tcb_info_signature', 'qe_identity_signature'])('%s: every character edit is refused or decodes to the same signature', async (field) => {
    const original = collateral[field];
    // Per character: another digit, the same digit in the other case, non-hex characters.
    const replacementsAt = (ch: string): string[] => ['0', '9', 'f', 'g', ' ', '\0', /[a-f]/.test(ch) ? ch.toUpperCase() : 'A'];
    let refused = 0;
    let sameBytes = 0;
    for (let i = 0; i < original.length; i++) {
      await breathe();
      for (const c of replacementsAt(original[i])) {
        if (c === original[i]) continue;
        const text = original.slice(0, i) + c + original.slice(i + 1);
        clearCollateralCache();
        const ok = accepted(() => (verifyCollateral(readCollateral({ ...collateral, [field]: text }), false), true));
        if (!ok) refused++;
        else {
          expect(Buffer.from(text, 'hex').equals(Buffer.from(original, 'hex')), `accepted ${field} edit at ${i} to ${JSON.stringify(c)}`).toBe(true);
          expect(text.toLowerCase()).toBe(original.toLowerCase());
          sameBytes++;
        }
      }
    }
    expect(refused).toBeGreaterThan(original.length * 5);
    // Only case changes of a-f digits decode to the same bytes.
    expect(sameBytes).toBe([...original].filter((ch) => /[a-f]/.test(ch)).length);
    for (const garbage of ['zz', '00', '0', ' x']) {
      clearCollateralCache();
      expect(accepted(() => (verifyCollateral(readCollateral({ ...collateral, [field]: original + garbage }), false), true)), garbage).toBe(false);
    }
  }, 300_000);
});
