/** `confcom node ...` as a user runs it: flags, start-up, health and metrics, a real request each, SIGTERM. */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runConfcom } from '../helpers/cli.js';
import { AZURE_EPC_RESOURCE } from '../../src/node/sgx/resources.js';
import { FakeKubelet } from './fake-kubelet.js';
import { REQ, report, transact } from './aesm-client.js';

const children: ChildProcess[] = [];
const temps: string[] = [];
const temp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  temps.push(d);
  return d;
};
afterEach(() => {
  children.splice(0).forEach((c) => c.kill('SIGTERM'));
  temps.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

/** Starts the CLI and resolves once stderr has matched every pattern (with the matches). */
function start(args: string[], patterns: RegExp[]): Promise<{ child: ChildProcess; matches: RegExpExecArray[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${REPO_ROOT}src/cli/main.ts`, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`timed out; stderr: ${stderr}`)), 20_000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const matches = patterns.map((p) => p.exec(stderr));
      if (matches.every((m) => m !== null)) {
        clearTimeout(timer);
        resolve({ child, matches: matches as RegExpExecArray[] });
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}; stderr: ${stderr}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

describe('confcom node', () => {
  it('names its three commands and refuses incomplete flags with exit 2', async () => {
    const [help, forward, webhook, size] = await Promise.all([
      runConfcom(['node', '--help']),
      runConfcom(['node', 'quote-helper', '--backend', 'forward']),
      runConfcom(['node', 'webhook']),
      runConfcom(['node', 'device-plugin', '--epc-size', 'huge']),
    ]);
    for (const c of ['device-plugin', 'quote-helper', 'webhook']) expect(help.stdout).toContain(c);
    expect(forward.code).toBe(2);
    expect(forward.stderr).toMatch(/--aesmd-socket/);
    expect(webhook.code).toBe(2);
    expect(webhook.stderr).toMatch(/--tls-cert and --tls-key/);
    expect(size.code).toBe(2);
  });

  it('device-plugin registers with the kubelet, reports health and metrics, and stops on SIGTERM', async () => {
    const dir = temp('dp-');
    const dev = temp('dev-');
    writeFileSync(join(dev, 'sgx_enclave'), '');
    const kubelet = new FakeKubelet(dir);
    await kubelet.start();
    try {
      const { child, matches } = await start(
        ['node', 'device-plugin', '--plugin-dir', dir, '--epc-size', '16MiB', '--dev-dir', dev, '--metrics-port', '0'],
        [/health and metrics on (http:\/\/\S+)\/healthz/, /confcom device plugin: \{/],
      );
      const base = matches[0][1];
      expect(kubelet.registrations[0].request.resource_name).toBe(AZURE_EPC_RESOURCE);
      expect(await kubelet.waitForList((d) => d.length === 16)).toHaveLength(16);
      const health = (await (await fetch(`${base}/healthz`)).json()) as { status: string; epc: string; epcBytes: number };
      expect(health).toMatchObject({ status: 'ok', epc: 'configured', epcBytes: 16 << 20 });
      await kubelet.allocate([['0', '1']]);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain(`confcom_node_devices_advertised{resource="${AZURE_EPC_RESOURCE}",health="Healthy"} 16`);
      expect(metrics).toContain(`confcom_node_devices_allocated_total{resource="${AZURE_EPC_RESOURCE}"} 2`);
      expect(metrics).toMatch(/confcom_node_registrations_total\{resource="[^"]+",result="ok"\} 1/);
      child.kill('SIGTERM');
      expect(await exited(child)).toBe(0);
    } finally {
      await kubelet.stop();
    }
  });

  it('quote-helper --backend sim serves quotes and writes the collateral verifiers need', async () => {
    const dir = temp('qh-');
    const socket = join(dir, 'aesm.socket');
    const collateral = join(dir, 'collateral.json');
    const { child } = await start(['node', 'quote-helper', '--backend', 'sim', '--socket', socket, '--sim-collateral', collateral], [/serving .* \(backend sim\)/]);
    const size = await transact(socket, REQ.getQuoteSizeEx, [[2, 0]]);
    const quote = await transact(socket, REQ.getQuoteEx, [[1, report({ mrenclave: Buffer.alloc(32, 1), mrsigner: Buffer.alloc(32, 2), reportData: Buffer.alloc(64, 3) })], [4, Number(size.get(2))]]);
    expect(quote.get(1)).toBe(0n);
    const evidence = join(dir, 'evidence.json');
    writeFileSync(evidence, JSON.stringify({ quote: (quote.get(2) as Buffer).toString('hex'), collateral: JSON.parse(readFileSync(collateral, 'utf8')) as unknown }));
    const verified = await runConfcom(['attest', 'verify', '--evidence', evidence, '--trust-simulator']);
    expect(verified.stdout).toMatch(/verified: SGX quote v3 \(SIMULATED\)/);
    expect(verified.stdout).toContain('03'.repeat(64));
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });
});
