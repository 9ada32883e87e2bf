/** The value builders: quantities, users, `$(VAR)` expansion, capabilities. */
import { describe, expect, it } from 'vitest';
import { divideCeil, parseQuantity } from '../../src/policy/quantity.js';
import { resolveUser } from '../../src/policy/user.js';
import { expandVariables } from '../../src/policy/env.js';
import { lit, sampleOf, patternOf, exactText } from '../../src/policy/parts.js';
import { securityModel } from '../../src/policy/security.js';
import { defaultSettings } from '../../src/policy/settings.js';

describe('quantities (resourceFieldRef)', () => {
  it.each([
    ['500m', '1', '1'],
    ['500m', '1m', '500'],
    ['1.5', '1', '2'],
    ['128Mi', '1Mi', '128'],
    ['128Mi', '1', '134217728'],
    ['1G', '1M', '1000'],
    ['1Gi', '1G', '2'],
    ['2e3', '1', '2000'],
    ['100', '3', '34'],
  ])('ceil(%s / %s) = %s', (q, d, want) => {
    expect(divideCeil(q, d)).toBe(want);
  });

  it('refuses what is not a quantity', () => {
    expect(parseQuantity('12 apples')).toBeUndefined();
    expect(divideCeil('1', '0')).toBeUndefined();
  });
});

describe('process user (containerd rules)', () => {
  const passwd = 'root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/app:/bin/sh\n';
  const group = 'root:x:0:\nwheel:x:10:root,app\napp:x:1001:\nstaff:x:50:app\n';

  it('defaults to root with its groups', () => {
    expect(resolveUser({ passwd, group })).toEqual({ UID: 0, GID: 0, AdditionalGids: [0, 10], Username: '' });
  });
  it('resolves the image user by name and by number', () => {
    expect(resolveUser({ imageUser: 'app', passwd, group })).toMatchObject({ UID: 1000, GID: 1001, AdditionalGids: [1001, 10, 50] });
    expect(resolveUser({ imageUser: '1000', passwd, group })).toMatchObject({ UID: 1000, GID: 1001 });
    expect(resolveUser({ imageUser: '65535:65535' })).toEqual({ UID: 65535, GID: 65535, AdditionalGids: [65535], Username: '' });
    expect(resolveUser({ imageUser: 'app:staff', passwd, group })).toMatchObject({ UID: 1000, GID: 50 });
  });
  it('lets runAsUser, runAsGroup, supplementalGroups and fsGroup win', () => {
    expect(resolveUser({ imageUser: 'app', passwd, group, runAsUser: 4242, runAsGroup: 7, supplementalGroups: [8, 7], fsGroup: 9 })).toEqual({ UID: 4242, GID: 7, AdditionalGids: [7, 8, 9], Username: '' });
  });
  it('refuses a user the image does not define', () => {
    expect(() => resolveUser({ imageUser: 'ghost', passwd, group })).toThrow(/'ghost' is not in its \/etc\/passwd/);
  });
});

describe('$(VAR) expansion (kubelet)', () => {
  const vars: Record<string, ReturnType<typeof lit>> = { A: lit('one'), IP: [{ re: '[0-9.]+', sample: '10.0.0.1' }] };
  const expand = (s: string) => expandVariables(s, (n) => vars[n]);
  it('expands known variables, keeps unknown ones and unescapes $$', () => {
    expect(exactText(expand('x-$(A)-$(B)-$$(A)-$x-$'))).toBe('x-one-$(B)-$(A)-$x-$');
    expect(exactText(expand('$(A'))).toBe('$(A');
  });
  it('keeps runtime parts as patterns', () => {
    const v = expand('http://$(IP):80/$(A).html');
    expect(exactText(v)).toBeUndefined();
    expect(sampleOf(v)).toBe('http://10.0.0.1:80/one.html');
    expect(new RegExp(`^${patternOf(v)}$`).test('http://192.168.1.1:80/one.html')).toBe(true);
    expect(new RegExp(`^${patternOf(v)}$`).test('http://192.168.1.1:80/oneXhtml')).toBe(false);
  });
});

describe('capabilities', () => {
  const settings = defaultSettings();
  it('adds and drops as containerd does', () => {
    const m = securityModel({ capabilities: { add: ['NET_ADMIN', 'CAP_SYS_TIME'], drop: ['MKNOD'] } }, {}, settings);
    expect(m.capabilities.Bounding).toEqual([...settings.capabilities.default.filter((c) => c !== 'CAP_MKNOD'), 'CAP_NET_ADMIN', 'CAP_SYS_TIME']);
    expect(m.capabilities.Inheritable).toEqual([]);
    expect(securityModel({ capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } }, {}, settings).capabilities.Effective).toEqual(['CAP_NET_BIND_SERVICE']);
  });
  it('gives privileged containers every capability and allows escalation', () => {
    const m = securityModel({ privileged: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }, {}, settings);
    expect(m.capabilities.Permitted).toEqual(settings.capabilities.privileged);
    expect(m.noNewPrivileges).toBe(false);
  });
  it('takes user and group from the pod when the container does not set them', () => {
    expect(securityModel({ runAsUser: 5 }, { runAsUser: 1, runAsGroup: 2 }, settings)).toMatchObject({ runAsUser: 5, runAsGroup: 2 });
  });
});
