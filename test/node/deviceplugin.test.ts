/** The generic device-plugin server against a fake kubelet: register, ListAndWatch, Allocate, kubelet restart. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEALTHY, UNHEALTHY, type Device } from '../../src/node/deviceplugin/api.js';
import { DevicePluginServer } from '../../src/node/deviceplugin/server.js';
import { InputError } from '../../src/core/errors.js';
import { FakeKubelet } from './fake-kubelet.js';
import { hasPythonGrpc, runPython } from './python.js';

const PY_CLIENT = new URL('./dp_client.py', import.meta.url).pathname;

const devices = (n: number, health = HEALTHY): Device[] => Array.from({ length: n }, (_, i) => ({ ID: `d${i}`, health }));

describe('device-plugin server', () => {
  let dir: string;
  let kubelet: FakeKubelet;
  let plugin: DevicePluginServer;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dp-'));
    kubelet = new FakeKubelet(dir);
    await kubelet.start();
    plugin = new DevicePluginServer({
      pluginDir: dir, endpoint: 'test.sock', resourceName: 'example.com/widget', checkIntervalMs: 200,
      handlers: {
        allocate: (ids) => {
          if (ids.includes('bad')) throw new InputError('unknown_device', 'no such device: bad');
          return { devices: [{ container_path: '/dev/w', host_path: '/dev/w', permissions: 'rw' }], envs: { WIDGETS: String(ids.length) } };
        },
      },
    });
  });

  afterEach(async () => {
    await plugin.stop();
    await kubelet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('removes a stale socket, registers, streams the list and answers Allocate', async () => {
    writeFileSync(join(dir, 'test.sock'), 'stale');
    plugin.setDevices(devices(3));
    await plugin.start();
    expect(kubelet.registrations).toHaveLength(1);
    expect(kubelet.registrations[0].request).toMatchObject({ version: 'v1beta1', endpoint: 'test.sock', resource_name: 'example.com/widget', options: { get_preferred_allocation_available: true } });
    const list = await kubelet.waitForList((d) => d.length === 3);
    expect(list.map((d) => d.ID)).toEqual(['d0', 'd1', 'd2']);

    const answer = await kubelet.allocate([['d0', 'd1'], ['d2']]);
    expect(answer.container_responses).toHaveLength(2);
    expect(answer.container_responses[0].devices).toEqual([{ container_path: '/dev/w', host_path: '/dev/w', permissions: 'rw' }]);
    expect(answer.container_responses[0].envs).toEqual({ WIDGETS: '2' });
    await expect(kubelet.allocate([['bad']])).rejects.toThrow(/no such device/);

    expect(await kubelet.preferred(['d0', 'd1', 'd2'], ['d2'], 2)).toEqual(['d2', 'd0']);
  });

  it('resends the whole list on every change over the open stream', async () => {
    plugin.setDevices(devices(2));
    await plugin.start();
    await kubelet.waitForList((d) => d.length === 2);
    plugin.setDevices(devices(2, UNHEALTHY));
    const list = await kubelet.waitForList((d) => d.length === 2 && d.every((x) => x.health === UNHEALTHY));
    expect(list).toHaveLength(2);
    plugin.setDevices(devices(5));
    expect(await kubelet.waitForList((d) => d.length === 5)).toHaveLength(5);
  });

  it('re-registers within 2 s after a kubelet restart and the stream resumes', async () => {
    plugin.setDevices(devices(4));
    await plugin.start();
    await kubelet.waitForList((d) => d.length === 4);
    const restartedAt = Date.now();
    await kubelet.restart();
    expect(existsSync(join(dir, 'test.sock'))).toBe(false);
    const deadline = restartedAt + 2000;
    while (kubelet.registrations.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(kubelet.registrations).toHaveLength(2);
    const took = kubelet.registrations[1].at - restartedAt;
    console.log(`re-registered ${took} ms after the kubelet restart`);
    expect(took).toBeLessThan(2000);
    expect(existsSync(join(dir, 'test.sock'))).toBe(true);
    expect(await kubelet.waitForList((d) => d.length === 4, 2000)).toHaveLength(4);
    const answer = await kubelet.allocate([['d3']]);
    expect(answer.container_responses[0].envs).toEqual({ WIDGETS: '1' });
  });

  it('registers when kubelet.sock appears later', async () => {
    await kubelet.stop();
    rmSync(join(dir, 'kubelet.sock'), { force: true });
    plugin.setDevices(devices(1));
    await plugin.start();
    expect(plugin.registrations).toBe(0);
    await kubelet.start();
    const deadline = Date.now() + 2000;
    while (kubelet.registrations.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(kubelet.registrations).toHaveLength(1);
  });

  it.runIf(hasPythonGrpc())('answers an independent python3-grpcio client, also after a kubelet restart', async () => {
    plugin.setDevices(devices(3));
    await plugin.start();
    const first = await runPython(PY_CLIENT, [plugin.socket, 'd1', 'd2']);
    expect(first.stderr).toBe('');
    const answer = JSON.parse(first.stdout) as { options: Record<string, boolean>; devices: string[]; health: string[]; allocate: { container_responses: { devices: unknown[]; envs: Record<string, string> }[] } };
    expect(answer.options).toEqual({ get_preferred_allocation_available: true });
    expect(answer.devices).toEqual(['d0', 'd1', 'd2']);
    expect(answer.health).toEqual([HEALTHY]);
    expect(answer.allocate.container_responses[0]).toEqual({ envs: { WIDGETS: '2' }, devices: [{ container_path: '/dev/w', host_path: '/dev/w', permissions: 'rw' }] });

    await kubelet.restart();
    const deadline = Date.now() + 2000;
    while (kubelet.registrations.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(kubelet.registrations).toHaveLength(2);
    const again = await runPython(PY_CLIENT, [plugin.socket, 'd0']);
    expect((JSON.parse(again.stdout) as { devices: string[] }).devices).toEqual(['d0', 'd1', 'd2']);
  });
});
