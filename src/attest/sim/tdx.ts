/**
 * The simulated TDX platform: the simulated SGX platform's PCK chain and TCB signer, a TD quoting
 * enclave (TD_QE) whose report binds a fresh attestation key, TD reports in v4 or v5 (TD 1.0 / 1.5)
 * quotes, and TDX collateral (TCB info id TDX with TDX components and a TDX_01 module identity).
 */
import { createHash, randomBytes } from 'node:crypto';
import { serialiseReportBody } from '../sgx/abi.js';
import type { SgxCollateralInput } from '../sgx/collateral.js';
import { serialiseTdReportBody, serialiseTdxQuote, tdxSignedPart } from '../tdx/abi.js';
import { INTEL_QE_VENDOR_ID } from '../sgx/abi.js';
import { PCE_SVN, QE_ATTRIBUTES, SimulatedSgxPlatform, TCB_COMPONENTS, newAttestationKey, p1363 } from './sgx.js';

export interface SimTdxFields {
  reportData?: Buffer;
  mrTd?: Buffer;
  rtmrs?: Buffer[];
  /** Set TD_ATTRIBUTES.DEBUG. */
  debug?: boolean;
  /** Quote version 4 (TD 1.0 body) or 5 (default 4). */
  quoteVersion?: 4 | 5;
  /** With version 5: a TD 1.5 body (648 bytes). */
  td15?: boolean;
  /** The platform TCB status the signed TCB info gives (default UpToDate). */
  tcbStatus?: string;
  /** The status the signed TD_QE identity gives the TD quoting enclave (default UpToDate). */
  qeTcbStatus?: string;
  /** The TDX module SVN (TEE_TCB_SVN[0]); the module identity marks SVN < 3 OutOfDate. */
  moduleSvn?: number;
}

const TD_QE = { mrsigner: createHash('sha256').update('confcom simulated TD quoting enclave').digest(), isvProdId: 2, isvSvn: 4 };
// TEE_TCB_SVN: module SVN, major version 1, then the late microcode SVN.
const TDX_COMPONENTS = [3, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const NO_SIGNER = '0'.repeat(96);

function header(version: 4 | 5, qeSvn: number): Buffer {
  const out = Buffer.alloc(48);
  out.writeUInt16LE(version, 0);
  out.writeUInt16LE(2, 2);
  out.writeUInt32LE(0x81, 4);
  out.writeUInt16LE(qeSvn, 8);
  out.writeUInt16LE(PCE_SVN, 10);
  INTEL_QE_VENDOR_ID.copy(out, 12);
  return out;
}

export class SimulatedTdxPlatform extends SimulatedSgxPlatform {
  tdxQuote(fields: SimTdxFields = {}): { quote: Buffer; collateral: SgxCollateralInput } {
    const { attestation, attKey, authData, qeReportData } = newAttestationKey();
    const qeReport = serialiseReportBody({ cpuSvn: Buffer.from(TCB_COMPONENTS), attributes: QE_ATTRIBUTES, mrSigner: TD_QE.mrsigner, isvProdId: TD_QE.isvProdId, isvSvn: TD_QE.isvSvn, reportData: qeReportData });
    const teeTcbSvn = Buffer.from(TDX_COMPONENTS);
    if (fields.moduleSvn !== undefined) teeTcbSvn[0] = fields.moduleSvn;
    const tdAttributes = Buffer.alloc(8);
    tdAttributes[3] = 0x10; // SEPT_VE_DISABLE, as production TDs set it
    if (fields.debug) tdAttributes[0] |= 0x01;
    const body = serialiseTdReportBody({
      teeTcbSvn, mrSeam: randomBytes(48), tdAttributes, xfam: Buffer.from('e702060000000000', 'hex'),
      mrTd: fields.mrTd ?? randomBytes(48), rtmrs: fields.rtmrs ?? [0, 1, 2, 3].map(() => randomBytes(48)), reportData: fields.reportData, td15: fields.td15,
    });
    const signedPart = tdxSignedPart(header(fields.quoteVersion ?? 4, TD_QE.isvSvn), body);
    const quote = serialiseTdxQuote({
      signedPart,
      signature: p1363(signedPart, attestation.privateKey),
      attestationKey: attKey,
      qeReport,
      qeReportSignature: p1363(qeReport, this.pck.privateKey),
      qeAuthData: authData,
      pckChainPem: Buffer.from(this.chainPem),
    });
    const collateral = this.collateral(fields.tcbStatus ?? 'UpToDate', {
      level: { tdxtcbcomponents: [0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0].map((svn) => ({ svn })) },
      info: {
        tdxModule: { mrsigner: NO_SIGNER, attributes: '0000000000000000', attributesMask: 'FFFFFFFFFFFFFFFF' },
        tdxModuleIdentities: [
          {
            id: 'TDX_01', mrsigner: NO_SIGNER, attributes: '0000000000000000', attributesMask: 'FFFFFFFFFFFFFFFF',
            tcbLevels: [
              { tcb: { isvsvn: 3 }, tcbDate: '2024-03-13T00:00:00Z', tcbStatus: 'UpToDate' },
              { tcb: { isvsvn: 1 }, tcbDate: '2023-08-09T00:00:00Z', tcbStatus: 'OutOfDate' },
            ],
          },
        ],
      },
      qe: TD_QE,
    }, fields.qeTcbStatus);
    return { quote, collateral };
  }
}
