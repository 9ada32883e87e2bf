import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runConfcom } from '../../helpers/cli.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/attest-service/', import.meta.url));

describe('confcom serve attestation', () => {
  it('listens on loopback, warns loudly when trusting the simulator, and answers health and JWKS', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', `${REPO_ROOT}src/cli/main.ts`, 'serve', 'attestation', '--port', '0', '--trust-simulator', '--secrets', `${FIXTURES}secrets`, '--reference', `${FIXTURES}reference.yaml`],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line; stderr:\n${stderr}`)), 30_000);
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
      });
      expect(stderr).toContain('INSECURE');
      expect(stderr).toContain('4 resources');
      expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok', simulator: true });
      const discovery = (await (await fetch(`${url}/.well-known/openid-configuration`)).json()) as { issuer: string };
      expect(discovery.issuer).toBe(url);
      const jwks = (await (await fetch(`${url}/certs`)).json()) as { keys: { alg: string }[] };
      expect(jwks.keys[0]!.alg).toBe('ES256');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('refuses bad reference values at start-up with exit 2 and the field path', async () => {
    const result = await runConfcom(['serve', 'attestation', '--port', '0', '--reference', `${FIXTURES}secrets/release-policy.json`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error[reference_invalid]');
  });
});
