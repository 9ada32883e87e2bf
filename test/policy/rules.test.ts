/** Our rules.rego: entry points for every agent request, safe defaults, and only builtins the agent ships. */
import { describe, expect, it } from 'vitest';
import { REQUEST_KINDS, PolicyEnforcer } from '../../src/agent/index.js';
import { rulesRego, renderPolicy } from '../../src/policy/render.js';

const AGENT_BUILTINS = new Set([
  'count', 'concat', 'contains', 'startswith', 'endswith', 'replace', 'split', 'substring', 'lower',
  'trim', 'trim_left', 'trim_right', 'trim_prefix', 'trim_suffix', 'trim_space', 'to_number', 'is_null',
  'object.keys', 'array.concat', 'regex.match', 'regex.find_all_string_submatch_n', 'print',
  // regorus' type checks (src/builtins/types.rs), which explicit type checks in our rules need.
  'is_string', 'is_number', 'is_array', 'is_object', 'is_boolean',
]);
const AGENT_FAMILIES = ['base64.', 'base64url.', 'bits.'];
const KEYWORDS = new Set(['if', 'every', 'some', 'in', 'not', 'default', 'import', 'package', 'else', 'contains_kw', 'with', 'as']);

/** Strips comments and string literals, so only code is scanned. */
function code(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/#.*$/, ''))
    .join('\n');
}

/** Names called as functions (`name(` or `a.b(`), excluding the rules and functions the file defines. */
function calledFunctions(text: string): string[] {
  const src = code(text);
  const defined = new Set([...src.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)\s*\(/gm)].map((m) => m[1]));
  const called = [...src.matchAll(/(?<![A-Za-z0-9_.])([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\(/g)].map((m) => m[1]);
  return [...new Set(called)].filter((n) => !KEYWORDS.has(n) && !defined.has(n)).sort();
}

describe('rules.rego', () => {
  it('calls only builtins the agent engine ships', () => {
    const called = calledFunctions(rulesRego());
    expect(called.length).toBeGreaterThan(3);
    const foreign = called.filter((n) => !AGENT_BUILTINS.has(n) && !AGENT_FAMILIES.some((f) => n.startsWith(f)));
    expect(foreign).toEqual([]);
  });

  it('the scan catches a builtin the agent lacks', () => {
    expect(calledFunctions('package x\nr if {\n\tsprintf("%v", [1])\n\tjson.marshal(2)\n}\n')).toEqual(['json.marshal', 'sprintf']);
  });

  it('has a default for every agent request kind', () => {
    const text = rulesRego();
    const missing = REQUEST_KINDS.map((k) => k.request).filter((k) => !new RegExp(`^default ${k} :=`, 'm').test(text));
    expect(missing).toEqual([]);
    expect(text).toMatch(/^default AllowRequestsFailingPolicy := false$/m);
  });

  it('loads as Rego v1 and denies what creates or runs something when policy_data is empty', () => {
    const enforcer = PolicyEnforcer.fromText(renderPolicy({ common: {}, pod: {}, sandbox: { storages: [] }, containers: [], request_defaults: {} }), { syntax: 'v1' });
    for (const kind of ['CreateContainerRequest', 'CreateSandboxRequest', 'ExecProcessRequest', 'CopyFileRequest', 'SetPolicyRequest', 'ReadStreamRequest', 'WriteStreamRequest', 'StartContainerRequest']) {
      expect(enforcer.decide(kind, {}).allowed, kind).toBe(false);
    }
    expect(enforcer.allowFailures).toBe(false);
    expect(enforcer.decide('GetOOMEventRequest', {}).allowed).toBe(true);
  });
});
