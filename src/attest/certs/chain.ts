/**
 * Builds a path from a leaf up to a trusted root through the certificates at hand, refusing any root
 * that is not pinned (or, with `trustSimulator`, marked as the software TEE's).
 */
import type { X509Certificate } from 'node:crypto';
import { AttestationError } from '../claims.js';
import { isSimulatorCert } from './roots.js';
import { commonName, isIssuedBy } from './x509.js';

export interface ChainResult {
  /** Leaf first, root last. */
  path: X509Certificate[];
  simulated: boolean;
}

/**
 * Walks from `leaf` through `intermediates` (pinned ones first, then supplied ones) until a cert in
 * `anchors` is reached. Supplied self-signed certs are never anchors unless they are simulator roots
 * and the caller trusts the simulator. `prefix` names the error codes (`snp`, `sgx`).
 */
export function buildChain(
  leaf: X509Certificate,
  anchors: X509Certificate[],
  pinnedIntermediates: X509Certificate[],
  supplied: X509Certificate[],
  options: { trustSimulator?: boolean; prefix: string; maxDepth?: number },
): ChainResult {
  const path = [leaf];
  let current = leaf;
  const done = (simulated: boolean): ChainResult => {
    // Every certificate that came with the evidence must be on the path or a byte-exact copy of a pinned
    // one: an altered or stray certificate is a sign of tampering even when it is not needed.
    const known = [...path, ...anchors, ...pinnedIntermediates];
    const stray = supplied.find((c) => !known.some((k) => k.raw.equals(c.raw)));
    if (stray) {
      throw new AttestationError(`${options.prefix}_chain_invalid`, `certificate ${commonName(stray)} supplied with the evidence is not part of its chain`, {
        hint: 'supply only the chain the vendor or host served, unmodified',
      });
    }
    return { path, simulated };
  };
  for (let depth = 0; depth < (options.maxDepth ?? 4); depth++) {
    const anchor = anchors.find((a) => isIssuedBy(current, a));
    if (anchor) {
      if (!anchor.raw.equals(current.raw)) path.push(anchor);
      return done(false);
    }
    const selfSigned = isIssuedBy(current, current);
    if (selfSigned) {
      if (isSimulatorCert(current)) {
        if (options.trustSimulator) return done(true);
        throw new AttestationError('simulator_not_trusted', `the evidence is signed by confcom's software TEE (root ${commonName(current)})`, {
          hint: 'pass trustSimulator: true (or --trust-simulator) only in tests and local mode',
        });
      }
      throw new AttestationError(`${options.prefix}_untrusted_root`, `the certificate chain ends at ${commonName(current)}, which is not a pinned vendor root`, {
        hint: 'evidence must chain to the vendor root shipped with confcom; a root sent with the evidence is never trusted',
      });
    }
    const next = [...pinnedIntermediates, ...supplied].find((c) => !c.raw.equals(current.raw) && isIssuedBy(current, c));
    if (!next) {
      throw new AttestationError(`${options.prefix}_chain_invalid`, `no issuer of ${commonName(current)} among the pinned and supplied certificates verifies its signature`, {
        hint: 'supply the certificate chain the host or vendor served with the evidence (for SEV-SNP: the VCEK or VLEK)',
      });
    }
    path.push(next);
    current = next;
  }
  throw new AttestationError(`${options.prefix}_chain_invalid`, 'the certificate chain is too long');
}
