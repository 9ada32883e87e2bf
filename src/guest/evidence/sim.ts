/**
 * The software TEE (src/attest/sim) behind the provider interface, for the local mode and tests.
 * SIMULATED: anyone can produce this evidence; the service refuses it unless told to trust the
 * simulator. HOST_DATA is fixed when the simulated VM "boots" (the provider is created), as the
 * hypervisor fixes it for a real one.
 */
import { createSimulatedTee, type SimulatedTee } from '../../attest/sim/index.js';
import { padReportData, snpWire, type EvidenceProvider, type GuestEvidence } from './provider.js';

export interface SimulatedProviderOptions {
  /** HOST_DATA of the simulated VM (32 bytes; the policy hash). */
  hostData?: Buffer;
  measurement?: Buffer;
  /** Share one simulated chip between several providers (e.g. a service trusting its chain). */
  tee?: SimulatedTee;
}

export class SimulatedSnpProvider implements EvidenceProvider {
  readonly name = 'simulated';
  readonly tee = 'snp' as const;
  readonly simulated = true;
  private chip: Promise<SimulatedTee>;

  constructor(private readonly options: SimulatedProviderOptions = {}) {
    this.chip = options.tee ? Promise.resolve(options.tee) : createSimulatedTee();
  }

  async evidence(reportData: Buffer): Promise<GuestEvidence> {
    const tee = await this.chip;
    const { report, certs } = await tee.snpReport({ reportData: padReportData(reportData), hostData: this.options.hostData, measurement: this.options.measurement });
    return { tee: 'snp', simulated: true, report, wire: snpWire(report, certs) };
  }
}
