import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runConfcom } from '../../helpers/cli.js';
import { startServeAttestation } from './serve-process.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/attest-service/', import.meta.url));

describe('confcom serve attestation', () => {
  it('listens on loopback, warns loudly when trusting the simulator, and answers health and JWKS', async () => {
    const serve = await startServeAttestation(['--trust-simulator', '--secrets', `${FIXTURES}secrets`, '--reference', `${FIXTURES}reference.yaml`]);
    const { url } = serve;
    try {
      const stderr = serve.stderr();
      expect(stderr).toContain('INSECURE');
      expect(stderr).toContain('4 resources');
      expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok', simulator: true });
      const discovery = (await (await fetch(`${url}/.well-known/openid-configuration`)).json()) as { issuer: string };
      expect(discovery.issuer).toBe(url);
      const jwks = (await (await fetch(`${url}/certs`)).json()) as { keys: { alg: string }[] };
      expect(jwks.keys[0]!.alg).toBe('ES256');
    } finally {
      serve.stop();
    }
  });

  it('refuses bad reference values at start-up with exit 2 and the field path', async () => {
    const result = await runConfcom(['serve', 'attestation', '--port', '0', '--reference', `${FIXTURES}secrets/release-policy.json`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error[reference_invalid]');
  });
});
