import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { PolicyEnforcer } from '../../src/agent/enforcer.js';
import { createLogger } from '../../src/core/log.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/agent/${name}`, import.meta.url), 'utf8');
const quiet = createLogger({ level: 'silent' });
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('PolicyEnforcer: agent semantics', () => {
  it('allows only SetPolicyRequest under the default policy', () => {
    const e = PolicyEnforcer.withDefaultPolicy({ logger: quiet });
    expect(e.decide('CreateContainerRequest', {}).allowed).toBe(false);
    expect(e.decide('CreateContainerRequest', {}).reason).toBe('error'); // undefined result: fail closed
    expect(e.decide('ExecProcessRequest', {}).allowed).toBe(false);
    const set = e.decide('SetPolicyRequest', { policy: fixture('stateful.rego') });
    expect(set.allowed).toBe(true);
    expect(e.decide('StartContainerRequest', {}).allowed).toBe(true);
  });

  it('applies {allowed, ops} patches to data.pstate only when allowed, and keeps state across requests', () => {
    const e = PolicyEnforcer.fromText(fixture('stateful.rego'), { logger: quiet });
    const first = e.decide('CreateContainerRequest', { sandbox_name: 'pod-a' });
    expect(first).toMatchObject({ allowed: true, stateChanged: true });
    expect(e.state).toEqual({ sandbox_name: 'pod-a' });
    expect(e.decide('CreateContainerRequest', { sandbox_name: 'pod-a' }).allowed).toBe(true);
    const other = e.decide('CreateContainerRequest', { sandbox_name: 'pod-b' });
    expect(other.allowed).toBe(false);
    expect(other.message).toMatch(/^CreateContainerRequest is blocked by policy/);
    expect(e.state).toEqual({ sandbox_name: 'pod-a' });
  });

  it('denies on conflicts and type errors (fail closed), reported as internal errors', () => {
    const e = PolicyEnforcer.fromText(fixture('erroring.rego'), { logger: quiet });
    const conflict = e.decide('CreateContainerRequest', { x: true });
    expect(conflict).toMatchObject({ allowed: false, reason: 'error' });
    expect(conflict.error?.code).toBe('eval_conflict_error');
    expect(conflict.message).toMatch(/^CreateContainerRequest: internal error/);
    const typeError = e.decide('ExecProcessRequest', { n: 1 });
    expect(typeError).toMatchObject({ allowed: false, reason: 'error' });
    expect(typeError.error?.code).toBe('eval_type_error');
    expect(e.decide('StartContainerRequest', {}).allowed).toBe(true);
  });

  it('gives the print lines of allowed and denied decisions (formatted when read), and the denial message carries them', () => {
    const policy = `package agent_policy
CreateContainerRequest if {
  print("checking", input.name)
  input.name == "ok"
}
default CreateContainerRequest := false
`;
    const e = PolicyEnforcer.fromText(policy, { logger: quiet });
    const allowed = e.decide('CreateContainerRequest', { name: 'ok' });
    expect(allowed.allowed).toBe(true);
    expect(allowed.prints).toEqual(['checking ok']);
    expect(JSON.parse(JSON.stringify(allowed)).prints).toEqual(['checking ok']);
    const denied = e.decide('CreateContainerRequest', { name: 'bad' });
    expect(denied.allowed).toBe(false);
    expect(denied.prints).toEqual(['checking bad']);
    expect(denied.message).toBe('CreateContainerRequest is blocked by policy: checking bad');
  });

  it('refuses ops outside /pstate', () => {
    const e = PolicyEnforcer.fromText(fixture('bad-ops.rego'), { logger: quiet });
    const d = e.decide('CreateContainerRequest', {});
    expect(d).toMatchObject({ allowed: false, reason: 'error' });
    expect(d.error?.code).toBe('agent_bad_ops');
  });

  it('lets denials and errors through, loudly, when AllowRequestsFailingPolicy is true', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', write: (l) => lines.push(l) });
    const e = PolicyEnforcer.fromText(fixture('allow-failures.rego'), { logger });
    expect(e.allowFailures).toBe(true);
    expect(e.decide('CreateContainerRequest', {})).toMatchObject({ allowed: true, reason: 'allow_failures' });
    expect(e.decide('ExecProcessRequest', {})).toMatchObject({ allowed: true, reason: 'allow_failures' });
    expect(lines.some((l) => l.includes('INSECURE'))).toBe(true);
  });

  it('checks SetPolicy against HOST_DATA: a wrong hash is refused and the old policy stays', () => {
    const next = fixture('stateful.rego');
    const e = PolicyEnforcer.fromText(fixture('set-policy.rego'), { hostData: sha256(next + '#tampered'), logger: quiet });
    const refused = e.decide('SetPolicyRequest', { policy: next });
    expect(refused).toMatchObject({ allowed: false, reason: 'host_data_mismatch' });
    expect(refused.error?.code).toBe('agent_host_data_mismatch');
    expect(e.policyHash).toBe(sha256(fixture('set-policy.rego')));
    const ok = PolicyEnforcer.fromText(fixture('set-policy.rego'), { hostData: sha256(next), logger: quiet });
    expect(ok.decide('SetPolicyRequest', { policy: next }).allowed).toBe(true);
    expect(ok.policyHash).toBe(sha256(next));
  });

  it('refuses a SetPolicy whose policy does not parse, and one the current policy denies', () => {
    const e = PolicyEnforcer.fromText(fixture('set-policy.rego'), { logger: quiet });
    expect(e.decide('SetPolicyRequest', { policy: fixture('broken.rego') })).toMatchObject({ allowed: false, reason: 'invalid_policy' });
    const strict = PolicyEnforcer.fromText(fixture('stateful.rego'), { logger: quiet });
    expect(strict.decide('SetPolicyRequest', { policy: fixture('set-policy.rego') }).allowed).toBe(false);
  });

  it('rejects policy text that does not parse, with a location', () => {
    expect(() => PolicyEnforcer.fromText(fixture('broken.rego'))).toThrow(expect.objectContaining({ code: 'rego_parse_error' }));
  });
});
