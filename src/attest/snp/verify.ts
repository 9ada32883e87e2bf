/**
 * SEV-SNP report verification: the VCEK/VLEK chain to AMD's pinned ARK, the VCEK's TCB and chip
 * extensions against the report, certificate validity and CRLs at a given time, and the report's
 * ECDSA P-384 signature. Byte layout lives in abi.ts; policy over the fields (debug, minimum TCB,
 * HOST_DATA) is appraisal's job, not this file's.
 */
import { createHash, verify as cryptoVerify, type KeyObject, type X509Certificate } from 'node:crypto';
import { AttestationError, type SnpClaims, type TcbVersion } from '../claims.js';
import { buildChain } from '../certs/chain.js';
import { AMD_PRODUCTS, amdRoots, type AmdProduct } from '../certs/roots.js';
import { checkCrl, checkValidity, commonName, parseCertificates, parseCrl, subjectDer, validity, type Validity } from '../certs/x509.js';
import { SIG_ALGO_ECDSA_P384_SHA384, decodePolicy, decodeTcb, parseReport, type SnpReport, type TcbLayout } from './abi.js';
import { readVcekExtensions, type VcekExtensions } from './vcek.js';

export interface SnpVerifyOptions {
  at?: Date;
  certs?: Buffer[];
  crls?: Buffer[];
  trustSimulator?: boolean;
  /** Force the product instead of taking it from the VCEK's productName / the report's CPUID. */
  product?: AmdProduct;
}

/** What verifying a signing-key chain once yields; cached by the exact certificate bytes supplied. */
interface VerifiedKey {
  key: KeyObject;
  kind: 'vcek' | 'vlek';
  product: AmdProduct;
  simulated: boolean;
  ext: VcekExtensions;
  /** Each certificate of the path with its validity window, checked on every call (the time varies). */
  windows: { name: string; window: Validity }[];
  path: X509Certificate[];
}

const keyCache = new Map<string, VerifiedKey>();
const KEY_CACHE_LIMIT = 256;

/** Clears the cache of verified VCEK/VLEK chains (tests). */
export function clearSnpKeyCache(): void {
  keyCache.clear();
}

const SIGNING_KEY_KIND: Record<number, 'vcek' | 'vlek'> = { 0: 'vcek', 1: 'vlek' };

export function signingKeyKind(report: SnpReport): 'vcek' | 'vlek' {
  const field = (report.flags >> 2) & 0x7;
  const kind = SIGNING_KEY_KIND[field];
  if (!kind) {
    throw new AttestationError('snp_signing_key_unsupported', `SEV-SNP report SIGNING_KEY is ${field}: the report is not signed by a VCEK or VLEK`, {
      location: { path: 'signing_key' },
    });
  }
  return kind;
}

/** The product from the CPUID fields of a version 3+ report, if they are set. */
function productFromCpuid(report: SnpReport): AmdProduct | undefined {
  if (report.cpuidFamily === 0x19) return report.cpuidModel < 0x10 ? 'Milan' : 'Genoa';
  if (report.cpuidFamily === 0x1a) return 'Turin';
  return undefined;
}

function productFromName(name: string | undefined): AmdProduct | undefined {
  return AMD_PRODUCTS.find((p) => name?.toLowerCase().startsWith(p.toLowerCase()));
}

function cacheKey(certs: Buffer[], options: SnpVerifyOptions, kind: string): string {
  const h = createHash('sha256');
  for (const c of certs) h.update(createHash('sha256').update(c).digest());
  return `${kind}:${options.product ?? ''}:${options.trustSimulator ? 1 : 0}:${h.digest('hex')}`;
}

function verifySigningKey(report: SnpReport, kind: 'vcek' | 'vlek', options: SnpVerifyOptions): VerifiedKey {
  const supplied = (options.certs ?? []).flatMap((c) => parseCertificates(c, 'SEV-SNP certificate'));
  const wantedCn = kind === 'vcek' ? 'SEV-VCEK' : 'SEV-VLEK';
  const leaves = supplied.filter((c) => commonName(c) === wantedCn);
  if (leaves.length !== 1) {
    throw new AttestationError(leaves.length === 0 ? `snp_${kind}_missing` : 'snp_chain_invalid', `expected exactly one ${kind.toUpperCase()} certificate (CN ${wantedCn}) with the report, found ${leaves.length}`, {
      hint: `pass the ${kind.toUpperCase()} for this chip and REPORTED_TCB (AMD KDS, or the host's certificate table) with --cert`,
    });
  }
  const leaf = leaves[0];
  const ext = readVcekExtensions(leaf);
  const product = options.product ?? productFromName(ext.productName) ?? productFromCpuid(report);
  const candidates = product ? [product] : AMD_PRODUCTS;
  let lastError: unknown;
  for (const p of candidates) {
    const roots = amdRoots(p);
    try {
      const chain = buildChain(leaf, [roots.ark], [kind === 'vcek' ? roots.ask : roots.asvk], supplied, {
        trustSimulator: options.trustSimulator,
        prefix: 'snp',
      });
      if (chain.path.length < 3) throw new AttestationError('snp_chain_invalid', `the ${kind.toUpperCase()} chain is too short`);
      return {
        key: leaf.publicKey,
        kind,
        product: productFromName(ext.productName) ?? p,
        simulated: chain.simulated,
        ext,
        windows: chain.path.map((c) => ({ name: commonName(c), window: validity(c) })),
        path: chain.path,
      };
    } catch (error) {
      lastError = error;
      // Only a missing issuer warrants trying another product; anything else is final.
      if (!(error instanceof AttestationError) || error.code !== 'snp_chain_invalid') throw error;
    }
  }
  throw lastError;
}

function checkTcbExtensions(key: VerifiedKey, reported: TcbVersion): void {
  const fields = ['bootloader', 'tee', 'snp', 'microcode', 'fmc'] as const;
  for (const field of fields) {
    const certValue = key.ext.tcb[field];
    if (certValue === undefined) {
      if (field === 'fmc' && reported.fmc === undefined) continue;
      throw new AttestationError('snp_tcb_mismatch', `the ${key.kind.toUpperCase()} has no ${field} TCB extension`, { location: { path: `reported_tcb.${field}` } });
    }
    if (certValue !== reported[field]) {
      throw new AttestationError('snp_tcb_mismatch', `REPORTED_TCB ${field} is ${reported[field]} but the ${key.kind.toUpperCase()} was issued for ${certValue}`, {
        location: { path: `reported_tcb.${field}` },
        hint: 'fetch the VCEK for this REPORTED_TCB from AMD KDS (the VCEK is derived from REPORTED_TCB)',
      });
    }
  }
}

export function tcbLayout(product: AmdProduct): TcbLayout {
  return product === 'Turin' ? 'turin' : 'milan';
}

/** Verifies a raw 1184-byte report and returns its claims. */
export function verifySnp(raw: Buffer, options: SnpVerifyOptions = {}): SnpClaims {
  const report = parseReport(raw);
  if (report.signatureAlgo !== SIG_ALGO_ECDSA_P384_SHA384) {
    throw new AttestationError('snp_signature_invalid', `SEV-SNP report SIGNATURE_ALGO is ${report.signatureAlgo}, expected 1 (ECDSA P-384 with SHA-384)`, {
      location: { path: 'signature_algo' },
    });
  }
  const kind = signingKeyKind(report);
  const certs = options.certs ?? [];
  const ck = cacheKey(certs, options, kind);
  let key = keyCache.get(ck);
  if (!key) {
    key = verifySigningKey(report, kind, options);
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
    keyCache.set(ck, key);
  }
  const at = options.at ?? new Date();
  for (const { name, window } of key.windows) checkValidity(name, window, at);
  if (options.crls?.length) checkAmdCrls(options.crls, key, at);

  const layout = tcbLayout(key.product);
  const reportedTcb = decodeTcb(report.reportedTcb, layout);
  checkTcbExtensions(key, reportedTcb);
  // With MASK_CHIP_KEY set the firmware zeroes CHIP_ID, so there is nothing to compare; VLEKs carry no hwID.
  const chipMasked = (report.flags & 0b10) !== 0;
  if (kind === 'vcek' && !chipMasked && !(key.ext.hwId && key.ext.hwId.equals(report.chipId))) {
    throw new AttestationError('snp_chip_id_mismatch', 'the VCEK was issued for a different chip than the report\'s CHIP_ID', {
      location: { path: 'chip_id' },
      hint: 'fetch the VCEK for this chip (hwID = CHIP_ID) from AMD KDS',
    });
  }
  if (!cryptoVerify('sha384', report.signed, { key: key.key, dsaEncoding: 'ieee-p1363' }, report.signature)) {
    throw new AttestationError('snp_signature_invalid', `the SEV-SNP report signature does not verify with the ${kind.toUpperCase()}`, {
      location: { path: 'signature' },
      hint: 'the report was altered, or the certificate belongs to another chip or TCB',
    });
  }
  return toClaims(report, key, layout);
}

/** AMD's CRL (KDS /vcek/v1/<product>/crl) is signed by the ARK and lists revoked ASKs/ASVKs. */
function checkAmdCrls(crls: Buffer[], key: VerifiedKey, at: Date): void {
  for (const [i, data] of crls.entries()) {
    const what = `CRL ${i + 1}`;
    const crl = parseCrl(data, what);
    const signerIndex = key.path.findIndex((c, n) => n > 0 && crl.issuer === subjectDer(c));
    if (signerIndex < 0) throw new AttestationError('crl_invalid', `${what} is not issued by any CA of the ${key.kind.toUpperCase()} chain`);
    checkCrl(crl, key.path[signerIndex], key.path.slice(0, signerIndex), at, what);
  }
}

const hex = (b: Buffer): string => b.toString('hex');

function toClaims(report: SnpReport, key: VerifiedKey, layout: TcbLayout): SnpClaims {
  return {
    tee: 'snp',
    simulated: key.simulated,
    product: key.product,
    signingKey: key.kind,
    version: report.version,
    guestSvn: report.guestSvn,
    policy: decodePolicy(report.policy),
    vmpl: report.vmpl,
    familyId: hex(report.familyId),
    imageId: hex(report.imageId),
    measurement: hex(report.measurement),
    hostData: hex(report.hostData),
    reportData: hex(report.reportData),
    idKeyDigest: hex(report.idKeyDigest),
    authorKeyDigest: hex(report.authorKeyDigest),
    reportId: hex(report.reportId),
    chipId: hex(report.chipId),
    currentTcb: decodeTcb(report.currentTcb, layout),
    reportedTcb: decodeTcb(report.reportedTcb, layout),
    committedTcb: decodeTcb(report.committedTcb, layout),
    launchTcb: decodeTcb(report.launchTcb, layout),
    platformInfo: report.platformInfo.toString(16).padStart(16, '0'),
  };
}
