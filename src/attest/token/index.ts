/** Attestation tokens: signing keys with rotation and a JWKS, JWT issue/verify, Azure-compatible claims. */
export * from './errors.js';
export * from './keys.js';
export * from './jwt.js';
export * from './claims.js';
export * from './ear.js';
