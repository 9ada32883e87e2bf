/** `aks`: annotation io.katacontainers.config.agent.policy = base64 of the Rego text; HOST_DATA = SHA-256 of the text. */
import { sha256Hex } from '../../core/hash.js';
import type { PolicyFormatModule } from './format.js';

export const AKS_ANNOTATION = 'io.katacontainers.config.agent.policy';

export const aksFormat: PolicyFormatModule<'aks'> = {
  name: 'aks',
  annotation: AKS_ANNOTATION,
  describe: 'base64 Rego annotation',
  encode: (policy) => ({ annotation: AKS_ANNOTATION, value: Buffer.from(policy, 'utf8').toString('base64'), hostData: sha256Hex(policy) }),
  decode: (value) => {
    const policy = Buffer.from(value, 'base64').toString('utf8');
    return { policy, hostData: sha256Hex(policy) };
  },
  document: (policy) => policy,
};
