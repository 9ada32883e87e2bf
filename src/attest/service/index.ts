/** The attestation service and key broker: decisions (service.ts) and their HTTP routes (server.ts). */
export { AttestationService, type AttestResult } from './service.js';
export { createAttestationServer, SESSION_COOKIE, type AttestationServer } from './server.js';
export type { AttestationServiceOptions } from './options.js';
