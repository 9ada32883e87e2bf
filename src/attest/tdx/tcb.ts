/**
 * TDX TCB status from TDX TCB info (v3, id TDX), following Intel's QVL: the first TCB level that the
 * PCK's SGX components and PCESVN meet and whose TDX components the quote's TEE_TCB_SVN meets; when
 * the TDX module reports a major version (TEE_TCB_SVN[1] > 0) its first two SVNs are judged by the
 * module identity `TDX_<major>` instead, and that status is converged into the platform's.
 */
import { AttestationError } from '../claims.js';
import { componentSvns, type TcbInfo, type TcbResult } from '../sgx/collateral.js';
import type { TdReportBody } from './abi.js';

const masked = (value: Buffer, mask: Buffer): Buffer => Buffer.from(value.map((b, i) => b & (mask[i] ?? 0)));

function moduleMatches(id: { mrsigner: string; attributes: string; attributesMask: string }, body: TdReportBody): boolean {
  const mask = Buffer.from(id.attributesMask, 'hex');
  return body.mrSignerSeam.equals(Buffer.from(id.mrsigner, 'hex')) && masked(body.seamAttributes, mask).equals(masked(Buffer.from(id.attributes, 'hex'), mask));
}

/** The TDX module identity's status, or undefined for a module without a major version (TDX 1.0). */
export function tdxModuleStatus(info: TcbInfo, body: TdReportBody): TcbResult | undefined {
  const major = body.teeTcbSvn[1];
  if (major === 0) {
    if (info.tdxModule && !moduleMatches(info.tdxModule, body)) {
      throw new AttestationError('tdx_module_mismatch', 'the TDX module (MRSIGNERSEAM, SEAMATTRIBUTES) does not match the TCB info tdxModule');
    }
    return undefined;
  }
  const name = `TDX_${major.toString(16).padStart(2, '0').toUpperCase()}`;
  const identity = info.tdxModuleIdentities?.find((m) => m.id.toUpperCase() === name);
  if (!identity) throw new AttestationError('tdx_module_unknown', `the TCB info has no identity ${name} for the TDX module of this quote`);
  if (!moduleMatches(identity, body)) throw new AttestationError('tdx_module_mismatch', `the TDX module does not match identity ${name} (MRSIGNERSEAM, SEAMATTRIBUTES)`);
  const level = identity.tcbLevels.find((l) => body.teeTcbSvn[0] >= l.tcb.isvsvn);
  if (!level) throw new AttestationError('tdx_module_tcb_unrecognized', `TDX module SVN ${body.teeTcbSvn[0]} is below every level of ${name}`);
  return { status: level.tcbStatus, advisoryIds: level.advisoryIDs ?? [] };
}

export function tdxPlatformStatus(info: TcbInfo, components: number[], pceSvn: number, body: TdReportBody): TcbResult {
  const start = body.teeTcbSvn[1] > 0 ? 2 : 0;
  for (const level of info.tcbLevels) {
    const sgx = componentSvns(level);
    const tdx = (level.tcb.tdxtcbcomponents ?? []).map((c) => c.svn);
    if (sgx.length !== 16 || tdx.length !== 16) continue;
    if (!sgx.every((svn, i) => components[i] >= svn) || pceSvn < level.tcb.pcesvn) continue;
    if (!tdx.every((svn, i) => i < start || body.teeTcbSvn[i] >= svn)) continue;
    return { status: level.tcbStatus, advisoryIds: level.advisoryIDs ?? [] };
  }
  throw new AttestationError('tdx_tcb_unrecognized', 'the platform and TDX module TCB are below every level in the TDX TCB info', { hint: 'the platform needs a microcode/BIOS or TDX module update' });
}
