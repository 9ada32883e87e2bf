/** `aks`: annotation io.katacontainers.config.agent.policy = base64 of the Rego text; HOST_DATA = SHA-256 of the text. */
import { sha256Hex } from '../../core/hash.js';
import type { PolicyFormatModule } from './format.js';

export const AKS_ANNOTATION = 'io.katacontainers.config.agent.policy';

export const aksFormat: PolicyFormatModule<'aks'> = {
  name: 'aks',
  annotation: AKS_ANNOTATION,
  describe: 'base64 Rego annotation',
  encode: (policy) => {
    // One UTF-8 encoding for both: the text is tens of KiB per pod.
    const bytes = Buffer.from(policy, 'utf8');
    return { annotation: AKS_ANNOTATION, value: bytes.toString('base64'), hostData: sha256Hex(bytes) };
  },
  decode: (value) => {
    const policy = Buffer.from(value, 'base64').toString('utf8');
    return { policy, hostData: sha256Hex(policy) };
  },
  document: (policy) => policy,
};
