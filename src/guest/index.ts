/** The in-pod attestation agent: evidence providers, KBS and Azure clients, the local API, one-shot mode. */
export * from './evidence/index.js';
export { KbsClient, parseResourcePath, KBS_PROTOCOL_VERSION, type KbsClientOptions, type ResourcePath } from './kbs-client.js';
export { AzureSkrClient, type AzureClientOptions } from './azure-client.js';
export { createGuestApi, assertLoopback, type GuestApiOptions } from './api.js';
export { writeSecretFile } from './oneshot.js';
export { GuestFlowError, EvidenceError, type GuestStep } from './errors.js';
