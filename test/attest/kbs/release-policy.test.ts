import { describe, expect, it } from 'vitest';
import { evaluateReleasePolicy, parseReleasePolicy } from '../../../src/attest/kbs/release-policy.js';
import { InputError } from '../../../src/core/errors.js';

const ISS = 'https://attest.example';
const HOST_DATA = 'ab'.repeat(32);
const claims = {
  iss: ISS,
  'x-ms-attestation-type': 'sevsnpvm',
  'x-ms-sevsnpvm-hostdata': HOST_DATA,
  'x-ms-sevsnpvm-is-debuggable': false,
  'x-ms-sevsnpvm-snpfw-svn': 8,
  'x-ms-runtime': { 'vm-configuration': { 'secure-boot': true } },
};

const policy = (conditions: unknown[], authority = ISS, version = '1.0.0') => parseReleasePolicy({ version, anyOf: [{ authority, allOf: conditions }] });

describe('release policy (Azure secure key release form)', () => {
  it('allows when every condition of a matching authority holds', () => {
    const p = policy([
      { claim: 'x-ms-attestation-type', equals: 'sevsnpvm' },
      { claim: 'x-ms-sevsnpvm-hostdata', equals: HOST_DATA.toUpperCase() }, // hex compares without case
      { claim: 'x-ms-sevsnpvm-is-debuggable', equals: false },
      { claim: 'x-ms-sevsnpvm-snpfw-svn', greaterOrEquals: 8 },
      { claim: 'x-ms-runtime.vm-configuration.secure-boot', equals: true },
    ]);
    expect(evaluateReleasePolicy(p, claims)).toEqual({ allow: true, reasons: [] });
  });

  it('denies on a wrong value, an absent claim, another authority, or a failed ordering', () => {
    expect(evaluateReleasePolicy(policy([{ claim: 'x-ms-sevsnpvm-hostdata', equals: 'cd'.repeat(32) }]), claims).allow).toBe(false);
    const absent = evaluateReleasePolicy(policy([{ claim: 'x-ms-sevsnpvm-nothing', notEquals: 'x' }]), claims);
    expect(absent.allow).toBe(false);
    expect(absent.reasons[0]).toContain('absent');
    expect(evaluateReleasePolicy(policy([{ claim: 'x-ms-attestation-type', equals: 'sevsnpvm' }], 'https://other.example'), claims).allow).toBe(false);
    expect(evaluateReleasePolicy(policy([{ claim: 'x-ms-sevsnpvm-snpfw-svn', greater: 8 }]), claims).allow).toBe(false);
    expect(evaluateReleasePolicy(policy([{ claim: 'x-ms-attestation-type', equals: 'sevsnpvm' }]), { ...claims, iss: undefined }).allow).toBe(false);
  });

  it('nests anyOf/allOf, accepts the documented lower-case spellings and exists', () => {
    const p = parseReleasePolicy({
      version: '1.0.0',
      anyof: [
        { authority: 'https://first.example', allof: [{ claim: 'x-ms-attestation-type', equals: 'sgx' }] },
        {
          authority: `${ISS}/`,
          anyOf: [{ claim: 'x-ms-attestation-type', equals: 'sgx' }, { allOf: [{ claim: 'x-ms-sevsnpvm-hostdata', exists: true }, { claim: 'x-ms-sgx-mrenclave', exists: false }] }],
        },
      ],
    });
    expect(evaluateReleasePolicy(p, claims).allow).toBe(true);
    expect(evaluateReleasePolicy(p, { ...claims, 'x-ms-sgx-mrenclave': 'aa' }).allow).toBe(false);
  });

  it('rejects malformed policies with the field path', () => {
    const bad: [unknown, string][] = [
      [{ version: '2.0.0', anyOf: [] }, 'version'],
      [{ version: '1.0.0', anyOf: [] }, 'anyOf'],
      [{ version: '1.0.0', anyOf: [{ allOf: [{ claim: 'a', equals: 1 }] }] }, 'anyOf[0].authority'],
      [{ version: '1.0.0', anyOf: [{ authority: ISS, allOf: [{ claim: 'a', equal: 1 }] }] }, 'anyOf[0].allOf[0].equal'],
      [{ version: '1.0.0', anyOf: [{ authority: ISS, allOf: [{ claim: 'a', equals: 1, notEquals: 2 }] }] }, 'anyOf[0].allOf[0]'],
      [{ version: '1.0.0', anyOf: [{ authority: ISS, allOf: [{ claim: 'a', greater: '3' }] }] }, 'anyOf[0].allOf[0].greater'],
      [{ version: '1.0.0', anyOf: [{ authority: ISS, allOf: [] }] }, 'anyOf[0].allOf'],
    ];
    for (const [doc, path] of bad) {
      try {
        parseReleasePolicy(doc, 'p.json');
        expect.unreachable(`accepted ${JSON.stringify(doc)}`);
      } catch (error) {
        expect(error).toBeInstanceOf(InputError);
        expect((error as InputError).code).toBe('release_policy_invalid');
        expect((error as InputError).location?.path).toBe(path);
      }
    }
  });
});

describe("the confidential sidecar's importkeyconfig.json form", () => {
  const config = (claimSets: unknown) => ({ key: { kid: 'k', kty: 'oct-HSM', authority: { endpoint: 'attest.example' } }, claims: claimSets });

  it('each claim list is an allOf under https://<endpoint>; the lists are alternatives', () => {
    const policy = parseReleasePolicy(config([[{ claim: 'x-ms-sevsnpvm-hostdata', equals: 'cd'.repeat(32) }], [{ claim: 'x-ms-sevsnpvm-hostdata', equals: HOST_DATA }, { claim: 'x-ms-sevsnpvm-is-debuggable', equals: false }]]));
    expect(policy.anyOf.map((a) => a.authority)).toEqual([ISS, ISS]);
    expect(evaluateReleasePolicy(policy, claims).allow).toBe(true);
    expect(evaluateReleasePolicy(policy, { ...claims, 'x-ms-sevsnpvm-is-debuggable': true }).allow).toBe(false);
    expect(evaluateReleasePolicy(policy, { ...claims, iss: 'https://other.example' }).allow).toBe(false);
  });

  it('refuses a missing endpoint, empty claim lists and unknown operators', () => {
    for (const bad of [{ claims: [[{ claim: 'a', equals: 1 }]] }, config([]), config([[]]), config([[{ claim: 'a', equal: 1 }]])]) {
      expect(() => parseReleasePolicy(bad)).toThrow(InputError);
    }
  });
});

describe('claim paths through keys that hold dots (EAR)', () => {
  it('finds submods.cpu0.ear.status and refuses what is not there', () => {
    const ear = { iss: ISS, submods: { cpu0: { 'ear.status': 'affirming', 'ear.veraison.annotated-evidence': { snp: { host_data: HOST_DATA } } } } };
    const policy = (claim: string, equals: string) => parseReleasePolicy({ version: '1.0.0', anyOf: [{ authority: ISS, allOf: [{ claim, equals }] }] });
    expect(evaluateReleasePolicy(policy('submods.cpu0.ear.status', 'affirming'), ear).allow).toBe(true);
    expect(evaluateReleasePolicy(policy('submods.cpu0.ear.veraison.annotated-evidence.snp.host_data', HOST_DATA), ear).allow).toBe(true);
    expect(evaluateReleasePolicy(policy('submods.cpu0.ear.status', 'contraindicated'), ear).allow).toBe(false);
    expect(evaluateReleasePolicy(policy('submods.cpu1.ear.status', 'affirming'), ear).reasons[0]).toContain('absent');
  });
});
