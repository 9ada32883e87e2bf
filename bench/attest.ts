/**
 * Evidence verifications per second on one core, with certificate chains and collateral cached (as a
 * long-running verifier sees them), next to the raw ECDSA verifications per second of the same curve
 * on the same machine: P-384 for SEV-SNP reports, P-256 for SGX and TDX quotes, P-384 + RSA-2048 for
 * Azure vTPM evidence (those two measured interleaved with their raw checks). Target ratio >= 0.8.
 * Uses the real vectors from ../shared when present, else the software TEE.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSimulatedTee } from '../src/attest/sim/index.js';
import { parseReport } from '../src/attest/snp/abi.js';
import { verifySnp } from '../src/attest/snp/verify.js';
import { parseQuote } from '../src/attest/sgx/abi.js';
import { verifySgx } from '../src/attest/sgx/verify.js';
import { parseCertificates } from '../src/attest/certs/x509.js';

const shared = join(process.env.CONFCOM_SHARED_DIR ?? join(process.cwd(), '..', 'shared'), 'attestation-vectors');
const real = existsSync(shared);

/** Runs `fn` for about `seconds` after a warm-up and returns calls per second. */
function rate(fn: () => unknown, seconds = 2): number {
  for (let i = 0; i < 200; i++) fn();
  let n = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  let now = started;
  while (now < deadline) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - started) / 1e9);
}

function row(label: string, evidenceRate: number, rawRate: number): void {
  console.log(`${label.padEnd(8)} ${evidenceRate.toFixed(0).padStart(8)} verifications/s   raw ECDSA ${rawRate.toFixed(0).padStart(8)}/s   ratio ${(evidenceRate / rawRate).toFixed(2)}`);
}

const tee = await createSimulatedTee();

// ---- SEV-SNP ----
let report: Buffer;
let certs: Buffer[];
let snpAt: Date | undefined;
if (real) {
  report = readFileSync(join(shared, 'snp/go-sev-guest/report.bin'));
  certs = [readFileSync(join(shared, 'snp/go-sev-guest/vcek.der')), readFileSync(join(shared, 'snp/go-sev-guest/ask_ark.pem'))];
  snpAt = new Date('2025-01-01T00:00:00Z');
} else {
  ({ report, certs } = await tee.snpReport({ reportData: Buffer.alloc(64, 1) }));
}
const snpOptions = { certs, at: snpAt, trustSimulator: !real };
verifySnp(report, snpOptions);
const parsedReport = parseReport(report);
const vcekKey: KeyObject = parseCertificates(certs[0])[0].publicKey;
const snpRate = rate(() => verifySnp(report, snpOptions));
const p384Rate = rate(() => verify('sha384', parsedReport.signed, { key: vcekKey, dsaEncoding: 'ieee-p1363' }, parsedReport.signature));

// ---- SGX ----
let quote: Buffer;
let collateral: unknown;
let sgxAt: Date | undefined;
if (real) {
  quote = readFileSync(join(shared, 'sgx/dcap-qvl/quote.bin'));
  collateral = JSON.parse(readFileSync(join(shared, 'sgx/dcap-qvl/collateral.json'), 'utf8'));
  sgxAt = new Date('2025-07-01T00:00:00Z');
} else {
  ({ quote, collateral } = await tee.sgxQuote({ reportData: Buffer.alloc(64, 2) }));
}
const sgxOptions = { collateral, at: sgxAt, trustSimulator: !real };
verifySgx(quote, sgxOptions);
const parsedQuote = parseQuote(quote);
const attKey = createPublicKey({
  key: { kty: 'EC', crv: 'P-256', x: parsedQuote.attestationKey.subarray(0, 32).toString('base64url'), y: parsedQuote.attestationKey.subarray(32).toString('base64url') },
  format: 'jwk',
});
const sgxRate = rate(() => verifySgx(quote, sgxOptions));
const p256Rate = rate(() => verify('sha256', parsedQuote.signed, { key: attKey, dsaEncoding: 'ieee-p1363' }, parsedQuote.signature));

console.log(`evidence: ${real ? 'real vectors from ../shared (clock pinned)' : 'software TEE (../shared absent)'}; one core, chains and collateral cached`);
row('SEV-SNP', snpRate, p384Rate);
row('SGX', sgxRate, p256Rate);

// ---- Azure vTPM (az-snp-vtpm), measured interleaved with the raw checks it needs ----
/** Alternates short slices of `a` and `b` so both see the same machine load; returns both rates. */
function interleaved(a: () => unknown, b: () => unknown, rounds = 10, slice = 0.15): [number, number] {
  for (let i = 0; i < 20; i++) {
    a();
    b();
  }
  const totals = [0, 0];
  const times = [0, 0];
  for (let r = 0; r < rounds; r++) {
    [a, b].forEach((fn, k) => {
      const started = process.hrtime.bigint();
      const deadline = started + BigInt(Math.round(slice * 1e9));
      let now = started;
      while (now < deadline) {
        for (let i = 0; i < 10; i++) fn();
        totals[k] += 10;
        now = process.hrtime.bigint();
      }
      times[k] += Number(now - started) / 1e9;
    });
  }
  return [totals[0] / times[0], totals[1] / times[1]];
}

const { azSnpVtpm } = await import('../src/attest/az-snp-vtpm/index.js');
const { readAzVtpmEvidence } = await import('../src/attest/az-snp-vtpm/verify.js');
const { parseHclReport } = await import('../src/attest/az-snp-vtpm/abi.js');
// trustee's real Azure vTPM evidence (test/fixtures/attest/az-snp-vtpm), VCEK to AMD's pinned Milan roots.
const vtpmEvidence = readFileSync(join(process.cwd(), 'test/fixtures/attest/az-snp-vtpm/evidence-v1.json'));
const vtpmOptions = { at: new Date('2026-06-01T00:00:00Z') };
await azSnpVtpm.verify(vtpmEvidence, vtpmOptions);
const vtpmParts = readAzVtpmEvidence(JSON.parse(vtpmEvidence.toString()) as Record<string, unknown>);
const hclSnp = parseReport(parseHclReport(vtpmParts.hclReport).snpReport);
const hclVcek = parseCertificates(vtpmParts.vcek as Buffer)[0].publicKey;
const runtimeKeys = JSON.parse(parseHclReport(vtpmParts.hclReport).runtimeData.toString()) as { keys: { n: string; e: string }[] };
const akKey = createPublicKey({ key: { kty: 'RSA', n: runtimeKeys.keys[0].n, e: runtimeKeys.keys[0].e }, format: 'jwk' });
const [vtpmRate, vtpmRawRate] = interleaved(
  () => azSnpVtpm.verify(vtpmEvidence, vtpmOptions),
  () =>
    verify('sha384', hclSnp.signed, { key: hclVcek, dsaEncoding: 'ieee-p1363' }, hclSnp.signature) &&
    verify('sha256', vtpmParts.tpmQuote.message, akKey, vtpmParts.tpmQuote.signature),
);
console.log(
  `vtpm     ${vtpmRate.toFixed(0).padStart(8)} verifications/s   raw P-384 + RSA-2048 ${vtpmRawRate.toFixed(0).padStart(8)}/s   ratio ${(vtpmRate / vtpmRawRate).toFixed(2)}   (trustee's real az-snp-vtpm evidence, interleaved)`,
);

// ---- TDX (v4 quote from the simulated TDX platform: the real sample's TCB info rates it unrecognized) ----
const { verifyTdx } = await import('../src/attest/tdx/verify.js');
const { parseTdxQuote } = await import('../src/attest/tdx/abi.js');
const tdxSample = await tee.tdxQuote({ reportData: Buffer.alloc(64, 3) });
const tdxOptions = { collateral: tdxSample.collateral, trustSimulator: true };
verifyTdx(tdxSample.quote, tdxOptions);
const parsedTdx = parseTdxQuote(tdxSample.quote);
const tdxKey = createPublicKey({
  key: { kty: 'EC', crv: 'P-256', x: parsedTdx.attestationKey.subarray(0, 32).toString('base64url'), y: parsedTdx.attestationKey.subarray(32).toString('base64url') },
  format: 'jwk',
});
const [tdxRate, tdxRawRate] = interleaved(
  () => verifyTdx(tdxSample.quote, tdxOptions),
  () => verify('sha256', parsedTdx.signed, { key: tdxKey, dsaEncoding: 'ieee-p1363' }, parsedTdx.signature),
);
console.log(
  `tdx      ${tdxRate.toFixed(0).padStart(8)} verifications/s   raw ECDSA P-256 ${tdxRawRate.toFixed(0).padStart(8)}/s   ratio ${(tdxRate / tdxRawRate).toFixed(2)}   (simulated TDX v4 quote, interleaved)`,
);
