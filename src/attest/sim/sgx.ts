/**
 * The simulated SGX platform: its own root -> PCK CA -> PCK chain and TCB-signing certificate
 * (ECDSA P-256 like Intel's), a quoting enclave whose report binds a fresh attestation key, v3
 * quotes, and collateral (TCB info, QE identity, CRLs) signed the way Intel's PCS signs them.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { buildCertificate, buildCrl, toPem, type Name } from '../certs/builder.js';
import { SIMULATOR_ORGANIZATION } from '../certs/roots.js';
import { serialiseHeader, serialiseQuote, serialiseReportBody } from '../sgx/abi.js';
import type { SgxCollateralInput } from '../sgx/collateral.js';
import { encodePckExtensions } from '../sgx/pck.js';

export interface SimSgxFields {
  reportData?: Buffer;
  mrenclave?: Buffer;
  mrsigner?: Buffer;
  /** Set ATTRIBUTES.DEBUG. */
  debug?: boolean;
  isvProdId?: number;
  isvSvn?: number;
  /** Quote format version (default 3). */
  quoteVersion?: 3 | 4;
  /** The platform TCB status the signed TCB info gives this platform (default UpToDate). */
  tcbStatus?: string;
  /** The status the signed QE identity gives the quoting enclave (default UpToDate). */
  qeTcbStatus?: string;
}

const DAY = 86_400_000;
const FMSPC = '00c0ffee0000';
const PCE_ID = '0000';
export const TCB_COMPONENTS = [7, 7, 2, 2, 255, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
export const PCE_SVN = 13;
const QE = { mrsigner: createHash('sha256').update('confcom simulated quoting enclave').digest(), isvProdId: 1, isvSvn: 8 };
// INIT | MODE64BIT, as a production QE reports them.
export const QE_ATTRIBUTES = Buffer.from('11000000000000000700000000000000', 'hex');

export const ec256 = (): { publicKey: KeyObject; privateKey: KeyObject } => generateKeyPairSync('ec', { namedCurve: 'P-256' });
export const p1363 = (data: Buffer, key: KeyObject): Buffer => sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });

/** A fresh attestation key, the QE auth data, and the QE report data binding both (SHA-256 || zeros). */
export function newAttestationKey(): { attestation: { publicKey: KeyObject; privateKey: KeyObject }; attKey: Buffer; authData: Buffer; qeReportData: Buffer } {
  const attestation = ec256();
  const jwk = attestation.publicKey.export({ format: 'jwk' });
  const attKey = Buffer.concat([Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
  const authData = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  const qeReportData = Buffer.concat([createHash('sha256').update(attKey).update(authData).digest(), Buffer.alloc(32)]);
  return { attestation, attKey, authData, qeReportData };
}

export class SimulatedSgxPlatform {
  protected readonly root = ec256();
  protected readonly pckCa = ec256();
  protected readonly pck = ec256();
  protected readonly tcbSigner = ec256();
  protected readonly names: Record<'root' | 'pckCa' | 'pck' | 'tcb', Name>;
  protected readonly chainPem: string;
  protected readonly signerChainPem: string;
  protected readonly rootDer: Buffer;
  protected readonly pckCaDer: Buffer;

  constructor() {
    const O = SIMULATOR_ORGANIZATION;
    this.names = {
      root: { CN: 'Simulated SGX Root CA', O },
      pckCa: { CN: 'Simulated SGX PCK Platform CA', O },
      pck: { CN: 'Simulated SGX PCK Certificate', O },
      tcb: { CN: 'Simulated SGX TCB Signing', O },
    };
    const now = Date.now();
    const window = { notBefore: new Date(now - DAY), notAfter: new Date(now + 10 * 365 * DAY), hash: 'sha256' as const };
    this.rootDer = buildCertificate({ ...window, subject: this.names.root, issuer: this.names.root, serial: 1, publicKey: this.root.publicKey, signingKey: this.root.privateKey, ca: true });
    this.pckCaDer = buildCertificate({ ...window, subject: this.names.pckCa, issuer: this.names.root, serial: 2, publicKey: this.pckCa.publicKey, signingKey: this.root.privateKey, ca: true });
    const pckDer = buildCertificate({
      ...window, subject: this.names.pck, issuer: this.names.pckCa, serial: randomBytes(8), publicKey: this.pck.publicKey, signingKey: this.pckCa.privateKey,
      extensions: [{ oid: '1.2.840.113741.1.13.1', value: encodePckExtensions({ tcbComponents: TCB_COMPONENTS, pceSvn: PCE_SVN, pceId: PCE_ID, fmspc: FMSPC }) }],
    });
    const tcbDer = buildCertificate({ ...window, subject: this.names.tcb, issuer: this.names.root, serial: 3, publicKey: this.tcbSigner.publicKey, signingKey: this.root.privateKey });
    this.chainPem = [pckDer, this.pckCaDer, this.rootDer].map((d) => toPem(d)).join('');
    this.signerChainPem = [tcbDer, this.rootDer].map((d) => toPem(d)).join('');
  }

  quote(fields: SimSgxFields): { quote: Buffer; collateral: SgxCollateralInput } {
    const { attestation, attKey, authData, qeReportData } = newAttestationKey();
    const qeReport = serialiseReportBody({ cpuSvn: Buffer.from(TCB_COMPONENTS), attributes: QE_ATTRIBUTES, mrSigner: QE.mrsigner, isvProdId: QE.isvProdId, isvSvn: QE.isvSvn, reportData: qeReportData });
    const attributes = Buffer.from(QE_ATTRIBUTES);
    if (fields.debug) attributes[0] |= 0x02;
    const header = serialiseHeader({ qeSvn: QE.isvSvn, pceSvn: PCE_SVN, version: fields.quoteVersion });
    const body = serialiseReportBody({
      cpuSvn: Buffer.from(TCB_COMPONENTS), attributes, mrEnclave: fields.mrenclave ?? randomBytes(32), mrSigner: fields.mrsigner ?? randomBytes(32),
      isvProdId: fields.isvProdId, isvSvn: fields.isvSvn, reportData: fields.reportData,
    });
    const quote = serialiseQuote({
      header, body,
      signature: p1363(Buffer.concat([header, body]), attestation.privateKey),
      attestationKey: attKey,
      qeReport,
      qeReportSignature: p1363(qeReport, this.pck.privateKey),
      qeAuthData: authData,
      pckChainPem: Buffer.from(this.chainPem),
    });
    return { quote, collateral: this.collateral(fields.tcbStatus ?? 'UpToDate', undefined, fields.qeTcbStatus) };
  }

  /** Signed collateral; `tcbInfoExtra` adds TDX fields (and `qeId` names the TD quoting enclave). */
  protected collateral(
    tcbStatus: string,
    tdx?: { level: Record<string, unknown>; info: Record<string, unknown>; qe: { mrsigner: Buffer; isvProdId: number; isvSvn: number } },
    qeTcbStatus = 'UpToDate',
  ): SgxCollateralInput {
    const now = Date.now();
    const iso = (t: number): string => new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
    const qe = tdx?.qe ?? QE;
    const tcbInfo = JSON.stringify({
      id: tdx ? 'TDX' : 'SGX', version: 3, issueDate: iso(now - 3_600_000), nextUpdate: iso(now + 30 * DAY), fmspc: FMSPC.toUpperCase(), pceId: PCE_ID, tcbType: 0, tcbEvaluationDataNumber: 17,
      ...tdx?.info,
      tcbLevels: [{ tcb: { sgxtcbcomponents: TCB_COMPONENTS.map((svn) => ({ svn })), pcesvn: PCE_SVN, ...tdx?.level }, tcbDate: iso(now - 30 * DAY), tcbStatus, advisoryIDs: [] }],
    });
    const qeIdentity = JSON.stringify({
      id: tdx ? 'TD_QE' : 'QE', version: 2, issueDate: iso(now - 3_600_000), nextUpdate: iso(now + 30 * DAY), tcbEvaluationDataNumber: 17,
      miscselect: '00000000', miscselectMask: 'FFFFFFFF', attributes: QE_ATTRIBUTES.toString('hex').toUpperCase(), attributesMask: 'FBFFFFFFFFFFFFFF0000000000000000',
      mrsigner: qe.mrsigner.toString('hex').toUpperCase(), isvprodid: qe.isvProdId,
      tcbLevels: [{ tcb: { isvsvn: qe.isvSvn }, tcbDate: iso(now - 30 * DAY), tcbStatus: qeTcbStatus }],
    });
    const crl = (issuer: Name, key: KeyObject): string =>
      buildCrl({ issuer, signingKey: key, hash: 'sha256', thisUpdate: new Date(now - 3_600_000), nextUpdate: new Date(now + 30 * DAY) }).toString('hex');
    return {
      tcb_info: tcbInfo,
      tcb_info_signature: p1363(Buffer.from(tcbInfo), this.tcbSigner.privateKey).toString('hex'),
      tcb_info_issuer_chain: this.signerChainPem,
      qe_identity: qeIdentity,
      qe_identity_signature: p1363(Buffer.from(qeIdentity), this.tcbSigner.privateKey).toString('hex'),
      qe_identity_issuer_chain: this.signerChainPem,
      pck_crl: crl(this.names.pckCa, this.pckCa.privateKey),
      pck_crl_issuer_chain: [this.pckCaDer, this.rootDer].map((d) => toPem(d)).join(''),
      root_ca_crl: crl(this.names.root, this.root.privateKey),
    };
  }
}
