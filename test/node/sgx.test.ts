/** EPC discovery, the advertised lists (size at 512 GiB) and Allocate through the fake kubelet. */
import { afterEach, describe, expect, it } from 'vitest';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HEALTHY, UNHEALTHY, listAndWatchSize } from '../../src/node/deviceplugin/api.js';
import { discoverEpc, parseSize } from '../../src/node/sgx/epc.js';
import { SgxDevicePlugin } from '../../src/node/sgx/plugin.js';
import { AZURE_EPC_RESOURCE, INTEL_ENCLAVE_RESOURCE, INTEL_PROVISION_RESOURCE, LIST_BYTE_BUDGET, MIB, epcDeviceId, epcDevices, maxEpcDevices } from '../../src/node/sgx/resources.js';
import { FakeKubelet } from './fake-kubelet.js';

const SYS = fileURLToPath(new URL('../fixtures/node/sys', import.meta.url));
const temps: string[] = [];
const temp = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
};
afterEach(() => temps.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A cpuid device file: 16 bytes per (leaf, subleaf) at offset subleaf << 32 | leaf, sparse elsewhere. */
function fakeCpuid(dir: string, subleaves: Record<number, [number, number, number, number]>): string {
  mkdirSync(join(dir, '0'), { recursive: true });
  const fd = openSync(join(dir, '0/cpuid'), 'w');
  for (const [sub, regs] of Object.entries(subleaves)) {
    const b = Buffer.alloc(16);
    regs.forEach((r, i) => b.writeUInt32LE(r >>> 0, i * 4));
    writeSync(fd, b, 0, 16, Number((BigInt(sub) << 32n) | 0x12n));
  }
  closeSync(fd);
  return dir;
}

describe('EPC discovery', () => {
  it('sums the per-NUMA-node sysfs counters', () => {
    const epc = discoverEpc({ sysRoot: SYS, cpuDevRoot: '/nonexistent' });
    expect(epc).toEqual({ found: true, source: 'sysfs', totalBytes: 96 * MIB, sections: [{ node: 0, bytes: 64 * MIB }, { node: 1, bytes: 32 * MIB }] });
  });

  it('falls back to CPUID leaf 0x12 EPC sections', () => {
    // Section 1: 8 GiB (ECX low bits = 0, EDX = 2 → 2 * 2^32); section 2: 64 MiB; sub-leaf 4 invalid.
    const cpu = fakeCpuid(temp('cpu-'), { 0: [1, 0, 0, 0], 2: [0x1, 0, 0x00000001, 2], 3: [0x1, 0, 64 * MIB + 1, 0], 4: [0, 0, 0, 0] });
    const epc = discoverEpc({ sysRoot: temp('sys-'), cpuDevRoot: cpu });
    expect(epc).toMatchObject({ found: true, source: 'cpuid', totalBytes: 8 * 1024 * MIB + 64 * MIB });
  });

  it('takes --epc-size over discovery and says clearly when nothing is found', () => {
    expect(discoverEpc({ configuredBytes: parseSize('8GiB'), sysRoot: SYS })).toMatchObject({ source: 'configured', totalBytes: 8 * 1024 * MIB });
    const none = discoverEpc({ sysRoot: temp('sys-'), cpuDevRoot: temp('cpu-') });
    expect(none.found).toBe(false);
    if (!none.found) expect(none.reason).toMatch(/no SGX EPC found.*sgx_total_bytes.*CPUID leaf 0x12.*--epc-size/);
    expect(() => parseSize('lots')).toThrow(/not a size/);
    expect(parseSize('512Gi')).toBe(512 * 1024 * MIB);
  });
});

describe('advertised EPC devices', () => {
  it('uses short IDs, one per MiB', () => {
    const list = epcDevices(100 * MIB, true);
    expect(list.devices).toHaveLength(100);
    expect(list.devices[99]).toEqual({ ID: '2r', health: HEALTHY });
    expect(new Set(list.devices.map((d) => d.ID)).size).toBe(100);
    expect(epcDeviceId(36 ** 3)).toBe('1000');
  });

  it('keeps the 512 GiB list under the kubelet 4 MiB limit', () => {
    const list = epcDevices(512 * 1024 * MIB, true);
    const uncut = Array.from({ length: 512 * 1024 }, (_, i) => ({ ID: epcDeviceId(i), health: HEALTHY }));
    const uncutBytes = listAndWatchSize(uncut);
    console.log(`512 GiB of EPC: ListAndWatch message ${list.encodedBytes} bytes (${(list.encodedBytes / MIB).toFixed(2)} MiB), ${list.advertisedMiB} of ${list.totalMiB} MiB advertised; the uncut list would be ${uncutBytes} bytes`);
    expect(listAndWatchSize(list.devices)).toBe(list.encodedBytes);
    expect(list.encodedBytes).toBeLessThan(4 * MIB);
    expect(list.encodedBytes).toBeLessThanOrEqual(LIST_BYTE_BUDGET);
    expect(list.advertisedMiB).toBe(maxEpcDevices());
    // The cut keeps as many devices as fit: one more would pass the budget.
    const oneMore = epcDevices((list.advertisedMiB + 1) * MIB, true, Number.MAX_SAFE_INTEGER);
    expect(oneMore.encodedBytes).toBeGreaterThan(LIST_BYTE_BUDGET);
    expect(uncutBytes).toBeGreaterThan(4 * MIB);
    // A 128 GiB node (the largest DCsv3 EPC per socket is smaller) is advertised whole.
    expect(epcDevices(128 * 1024 * MIB, true).advertisedMiB).toBe(128 * 1024);
  });
});

describe('SGX device plugin through the fake kubelet', () => {
  it('advertises azure and intel names and allocates the existing device nodes', async () => {
    const dir = temp('dp-');
    const dev = temp('dev-');
    writeFileSync(join(dev, 'sgx_enclave'), '');
    writeFileSync(join(dev, 'sgx_provision'), '');
    const kubelet = new FakeKubelet(dir);
    await kubelet.start();
    const plugin = new SgxDevicePlugin({ pluginDir: dir, devDir: dev, epc: discoverEpc({ sysRoot: SYS }), naming: 'both', sharedLimit: 4, checkIntervalMs: 100 });
    try {
      await plugin.start();
      expect(kubelet.registrations.map((r) => r.request.resource_name).sort()).toEqual([AZURE_EPC_RESOURCE, INTEL_ENCLAVE_RESOURCE, INTEL_PROVISION_RESOURCE].sort());
      // The fake kubelet keeps one stream (the last registered): the Intel provision resource.
      await kubelet.waitForList((d) => d.length === 4);
      const epcServer = plugin.servers[0];
      expect(epcServer.currentDevices()).toHaveLength(96);
      kubelet.dial(basename(epcServer.socket));
      await kubelet.waitForList((d) => d.length === 96);
      const answer = await kubelet.allocate([[epcDeviceId(0), epcDeviceId(95)]]);
      expect(answer.container_responses[0].devices).toEqual([
        { container_path: '/dev/sgx_enclave', host_path: '/dev/sgx_enclave', permissions: 'rw' },
        { container_path: '/dev/sgx_provision', host_path: '/dev/sgx_provision', permissions: 'rw' },
      ]);
      expect(answer.container_responses[0].envs).toEqual({});
      expect(answer.container_responses[0].mounts).toEqual([]);
      await expect(kubelet.allocate([[epcDeviceId(96)]])).rejects.toThrow(/unknown device IDs 2o/);

      // The enclave node vanishes: every device turns Unhealthy over the open stream, and back.
      rmSync(join(dev, 'sgx_enclave'));
      await kubelet.waitForList((d) => d.length === 96 && d.every((x) => x.health === UNHEALTHY), 3000);
      await expect(kubelet.allocate([[epcDeviceId(0)]])).rejects.toThrow(/no SGX enclave device node/);
      writeFileSync(join(dev, 'sgx_enclave'), '');
      await kubelet.waitForList((d) => d.length === 96 && d.every((x) => x.health === HEALTHY), 3000);
    } finally {
      await plugin.stop();
      await kubelet.stop();
    }
  });

  it('advertises nothing when no EPC is found', async () => {
    const plugin = new SgxDevicePlugin({ pluginDir: temp('dp-'), epc: { found: false, reason: 'no SGX EPC found' }, naming: 'azure' });
    await plugin.start();
    expect(plugin.servers).toHaveLength(0);
    expect(plugin.summary).toMatchObject({ epc: 'none', advertised: [] });
  });
});
