/**
 * Azure vTPM token claims in MAA's names for an Azure VM: `x-ms-attestation-type: azurevm`, the
 * SEV-SNP claims nested under `x-ms-isolation-tee`, the VM id from the HCL runtime data; the quoted
 * PCRs and nonce under confcom's prefix.
 */
import { snpClaims } from '../snp/token.js';
import type { AzSnpVtpmAppraisalClaims } from './claims.js';

function vmId(c: AzSnpVtpmAppraisalClaims): unknown {
  const config = c.vm_configuration;
  return typeof config === 'object' && config !== null ? (config as Record<string, unknown>).vmUniqueId : undefined;
}

export function azVtpmClaims(c: AzSnpVtpmAppraisalClaims): Record<string, unknown> {
  const out: Record<string, unknown> = {
    'x-ms-attestation-type': 'azurevm',
    'x-ms-isolation-tee': snpClaims(c.snp),
    'x-confcom-azurevm-nonce': c.nonce,
    'x-confcom-azurevm-pcrs': c.pcrs,
  };
  const id = vmId(c);
  if (typeof id === 'string') out['x-ms-azurevm-vmid'] = id;
  return out;
}

export const azVtpmAuditFields = (c: AzSnpVtpmAppraisalClaims): Record<string, unknown> => ({
  measurement: c.snp.measurement,
  debug: c.snp.policy.debug,
  vm_id: vmId(c),
});
