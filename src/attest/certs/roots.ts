/**
 * The trust anchors, loaded once: each pinned root must match its fingerprint, and each AMD ASK/ASVK
 * must verify under its ARK, or confcom refuses to start verifying (an internal error, never a pass).
 */
import type { X509Certificate } from 'node:crypto';
import { InternalError } from '../../core/errors.js';
import { AMD_CERTS } from './amd-certs.js';
import { INTEL_SGX_ROOT_CA, INTEL_SGX_ROOT_CA_FINGERPRINT } from './intel-root.js';
import { isIssuedBy, parseCertificates, sha256Hex } from './x509.js';

export type AmdProduct = keyof typeof AMD_CERTS;
export const AMD_PRODUCTS = Object.keys(AMD_CERTS) as AmdProduct[];

export interface AmdRoots {
  product: AmdProduct;
  ark: X509Certificate;
  ask: X509Certificate;
  asvk: X509Certificate;
}

function pinned(pem: string, fingerprint: string, name: string): X509Certificate {
  const [cert] = parseCertificates(pem, name);
  if (sha256Hex(cert.raw) !== fingerprint) throw new InternalError(`the shipped ${name} does not match its pinned fingerprint`);
  if (!isIssuedBy(cert, cert)) throw new InternalError(`the shipped ${name} is not self-signed`);
  return cert;
}

let amdCache: Map<AmdProduct, AmdRoots> | undefined;

export function amdRoots(product: AmdProduct): AmdRoots {
  if (!amdCache) {
    amdCache = new Map();
    for (const name of AMD_PRODUCTS) {
      const certs = AMD_CERTS[name];
      const ark = pinned(certs.ark, certs.arkFingerprint, `ARK-${name}`);
      const [ask] = parseCertificates(certs.ask);
      const [asvk] = parseCertificates(certs.asvk);
      if (!isIssuedBy(ask, ark) || !isIssuedBy(asvk, ark)) throw new InternalError(`the shipped ${name} ASK/ASVK do not verify under ARK-${name}`);
      amdCache.set(name, { product: name, ark, ask, asvk });
    }
  }
  return amdCache.get(product) as AmdRoots;
}

let intelRoot: X509Certificate | undefined;

export function intelSgxRootCa(): X509Certificate {
  intelRoot ??= pinned(INTEL_SGX_ROOT_CA, INTEL_SGX_ROOT_CA_FINGERPRINT, 'Intel SGX Root CA');
  return intelRoot;
}

/**
 * The organisation name the software TEE (src/attest/sim) puts in its roots. A root carrying it is
 * honoured only with `trustSimulator: true`, and the claims then say `simulated: true`; any other
 * root that is not pinned above is refused.
 */
export const SIMULATOR_ORGANIZATION = 'confcom simulated TEE';

export function isSimulatorCert(cert: X509Certificate): boolean {
  return cert.subject.split('\n').includes(`O=${SIMULATOR_ORGANIZATION}`);
}
