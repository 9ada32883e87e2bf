/**
 * One interface for every way the guest gets evidence from its TEE. A provider takes the 64 bytes of
 * REPORT_DATA the verifier will check (the binding of nonce and key) and returns evidence in the
 * attestation service's wire form. Providers are a registry (`evidence/index.ts`): a new TEE path is
 * one module and one table line.
 */

/** The KBS protocol's TEE names for what we produce. */
export type GuestTee = 'snp' | 'tdx' | 'az-snp-vtpm';

export interface GuestEvidence {
  tee: GuestTee;
  /** true only for the software TEE: its evidence is refused unless the verifier trusts the simulator. */
  simulated: boolean;
  /** The `tee-evidence` JSON the attestation service receives. */
  wire: Record<string, unknown>;
  /** The raw hardware report (SNP: 1184 bytes; TDX: the quote; vTPM: the HCL report). */
  report: Buffer;
}

export interface EvidenceProvider {
  readonly name: string;
  readonly tee: GuestTee;
  readonly simulated: boolean;
  /** Evidence whose REPORT_DATA is exactly `reportData` (64 bytes). */
  evidence(reportData: Buffer): Promise<GuestEvidence>;
}

export const REPORT_DATA_BYTES = 64;

/** REPORT_DATA is always 64 bytes; shorter values are zero-padded, longer ones refused. */
export function padReportData(data: Uint8Array): Buffer {
  if (data.length > REPORT_DATA_BYTES) throw new RangeError(`REPORT_DATA is at most ${REPORT_DATA_BYTES} bytes, got ${data.length}`);
  const out = Buffer.alloc(REPORT_DATA_BYTES);
  out.set(data);
  return out;
}

/** The SEV-SNP wire form our attestation service reads: base64 report and DER certificates, VCEK first. */
export function snpWire(report: Buffer, certs: readonly Buffer[]): Record<string, unknown> {
  return { report: report.toString('base64'), certs: certs.map((c) => c.toString('base64')) };
}
