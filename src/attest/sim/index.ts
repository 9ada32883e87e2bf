/**
 * A software TEE for tests and the local mode: one simulated SEV-SNP chip, one simulated SGX
 * platform and one simulated TDX platform, each with its own generated chain. Their roots carry the simulator marker, so the
 * verifier refuses them unless told `trustSimulator: true`, and then reports `simulated: true`.
 */
import type { TcbVersion } from '../claims.js';
import { SimulatedSgxPlatform, type SimSgxFields } from './sgx.js';
import { SimulatedSnpChip, type SimChainOptions, type SimSnpFields } from './snp.js';
import { SimulatedTdxPlatform, type SimTdxFields } from './tdx.js';

export { SIM_DEFAULT_TCB, SimulatedSnpChip, type SimSnpFields, type SimChainOptions } from './snp.js';
export { SimulatedSgxPlatform, type SimSgxFields } from './sgx.js';
export { SimulatedTdxPlatform, type SimTdxFields } from './tdx.js';

export interface SimulatedTee {
  snpReport(fields: {
    reportData?: Buffer;
    hostData?: Buffer;
    measurement?: Buffer;
    policyDebug?: boolean;
    reportedTcb?: Partial<TcbVersion>;
  } & SimSnpFields): Promise<{ report: Buffer; certs: Buffer[] }>;
  sgxQuote(fields: { reportData?: Buffer; mrenclave?: Buffer; mrsigner?: Buffer } & SimSgxFields): Promise<{ quote: Buffer; collateral: unknown }>;
  tdxQuote(fields: SimTdxFields): Promise<{ quote: Buffer; collateral: unknown }>;
  /** The simulated chip's CHIP_ID (hex). */
  readonly chipId: string;
}

export async function createSimulatedTee(options: SimChainOptions = {}): Promise<SimulatedTee> {
  const chip = new SimulatedSnpChip(options);
  let sgx: SimulatedSgxPlatform | undefined;
  let tdx: SimulatedTdxPlatform | undefined;
  return {
    chipId: chip.chipId.toString('hex'),
    snpReport: async (fields) => chip.report(fields),
    sgxQuote: async (fields) => (sgx ??= new SimulatedSgxPlatform()).quote(fields),
    tdxQuote: async (fields) => (tdx ??= new SimulatedTdxPlatform()).tdxQuote(fields),
  };
}
