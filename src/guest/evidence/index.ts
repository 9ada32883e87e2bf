/** The evidence providers by name (`--evidence`); `auto` picks the first whose interface exists. */
import { existsSync } from 'node:fs';
import { ConfigfsTsmProvider, TSM_REPORT_ROOT } from './configfs-tsm.js';
import { SimulatedSnpProvider } from './sim.js';
import { AzureVtpmProvider } from './vtpm.js';
import type { EvidenceProvider } from './provider.js';
import { UsageError } from '../../core/errors.js';

export * from './provider.js';
export { ConfigfsTsmProvider, AzureVtpmProvider, SimulatedSnpProvider };

export interface ProviderOptions {
  tsmRoot?: string;
  tpmDevice?: string;
  /** Simulated VM's HOST_DATA (hex). */
  simHostData?: string;
}

export const PROVIDERS: Record<string, (o: ProviderOptions) => EvidenceProvider> = {
  'configfs-tsm': (o) => new ConfigfsTsmProvider({ root: o.tsmRoot }),
  'az-vtpm': (o) => new AzureVtpmProvider({ device: o.tpmDevice }),
  simulated: (o) => new SimulatedSnpProvider({ hostData: o.simHostData ? Buffer.from(o.simHostData, 'hex') : undefined }),
};

export function evidenceProvider(name: string, options: ProviderOptions = {}): EvidenceProvider {
  if (name === 'auto') {
    if (existsSync(options.tsmRoot ?? TSM_REPORT_ROOT)) return PROVIDERS['configfs-tsm'](options);
    if (existsSync(options.tpmDevice ?? '/dev/tpmrm0')) return PROVIDERS['az-vtpm'](options);
    throw new UsageError('no TEE interface found (neither configfs-tsm nor /dev/tpmrm0)', { hint: 'use --evidence simulated for local testing (INSECURE)' });
  }
  const make = PROVIDERS[name];
  if (!make) throw new UsageError(`unknown evidence provider '${name}'`, { hint: `use one of: auto, ${Object.keys(PROVIDERS).join(', ')}` });
  return make(options);
}
