/** `policy replay | explain`: decide recorded agent requests as the Kata agent would, and explain denials. */
import { Command, Option } from './commander.js';
import { InputError, CheckFailedError, UsageError } from '../core/errors.js';
import { readInputText } from '../core/fs.js';
import type { Decision, PolicyEnforcer, PolicySyntax } from '../agent/enforcer.js';
import { findRequestKind, REQUEST_KINDS } from '../agent/kinds.js';
import { globalOptions, printJson, printLine } from './context.js';

// The Rego engine and the agent's semantics load only when a command runs, so `--help` stays cheap.
const enforcerModule = () => import('../agent/enforcer.js');

interface PolicyFlags {
  policy: string;
  resource?: string;
  syntax: PolicySyntax;
  hostData?: string;
}

const syntaxOption = () => new Option('--syntax <version>', 'Rego syntax of the policy').choices(['auto', 'v0', 'v1']).default('auto');

async function loadEnforcer(flags: PolicyFlags): Promise<{ enforcer: PolicyEnforcer; from: string }> {
  const { readPolicySource } = await import('../policy/source.js');
  const { PolicyEnforcer } = await enforcerModule();
  const { text, from } = await readPolicySource(flags.policy, flags.resource);
  try {
    return { enforcer: PolicyEnforcer.fromText(text, { syntax: flags.syntax, hostData: flags.hostData }), from };
  } catch (error) {
    // Parse errors point into the policy text; name the file the user gave.
    if (error instanceof Error && 'location' in error) {
      const loc = (error as { location?: { line?: number; column?: number } }).location;
      throw new InputError('policy_invalid', `the policy in ${from} does not load: ${error.message}`, {
        location: { file: flags.policy, line: loc?.line, column: loc?.column },
        hint: 'check the Rego syntax version (--syntax v0 for older genpolicy policies)',
      });
    }
    throw error;
  }
}

/** Levenshtein distance, for "did you mean" on request kinds. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length];
}

/** The hint for an unknown request kind: the nearest one (by method or message name), or where the list is. */
function kindHint(given: string): string {
  const bare = (name: string) => name.toLowerCase().replace(/request$/, '');
  let best: { kind: string; distance: number } | undefined;
  for (const k of REQUEST_KINDS) {
    for (const name of [k.request, ...k.methods]) {
      const distance = editDistance(bare(given), bare(name));
      if (!best || distance < best.distance) best = { kind: k.request, distance };
    }
  }
  const close = best && best.distance <= Math.max(2, Math.floor(bare(given).length / 4));
  return close ? `did you mean ${best?.kind}?` : '`confcom policy replay --help` lists every request kind';
}

/** An unknown `--kind` is a usage error naming the nearest request kind. */
function unknownKind(given: string): UsageError {
  return new UsageError(`unknown request kind '${given}'`, { hint: kindHint(given) });
}

/** The rule names the policy defines (a recording may query one directly, e.g. AllowRequestsFailingPolicy). */
async function policyRuleNames(enforcer: PolicyEnforcer): Promise<Set<string>> {
  const { parseModule } = await import('../rego/parser.js');
  // The enforcer has loaded this text already, so it parses with the syntax the enforcer settled on.
  const names = parseModule(enforcer.policyText, 'policy', { syntax: enforcer.syntax }).rules.map((r) => r.head.ref[0]);
  return new Set(names.map((t) => (t?.type === 'var' ? t.name : t?.type === 'scalar' ? String(t.value) : '')));
}

/**
 * Recorded requests with their kinds checked and written as message names (a method name such as
 * CreateContainer is accepted): a kind that is neither a request kind nor a rule of the policy is bad
 * input naming its line, not a silent denial.
 */
async function readRecords(file: string, enforcer: PolicyEnforcer): Promise<import('../agent/replay.js').RecordedRequest[]> {
  const { parseRecordedRequests } = await import('../agent/replay.js');
  const records = parseRecordedRequests(await readInputText(file), file);
  const rules = records.some((r) => !findRequestKind(r.kind)) ? await policyRuleNames(enforcer) : new Set<string>();
  return records.map((record) => {
    const kind = findRequestKind(record.kind)?.request ?? (rules.has(record.kind) ? record.kind : undefined);
    if (!kind) {
      throw new InputError('replay_unknown_kind', `line ${record.line}: unknown request kind '${record.kind}'`, { location: { file, line: record.line }, hint: kindHint(record.kind) });
    }
    return { ...record, kind };
  });
}

/** The agent's denial wording, without the empty "blocked by policy: " when the policy printed nothing. */
function denialMessage(decision: Decision): string {
  if (decision.reason === 'policy' && decision.prints.length === 0) return `${decision.kind} is blocked by policy (it printed no reason)`;
  return decision.message ?? `${decision.kind} denied`;
}

export function registerPolicyEnforceCommands(group: Command): void {
  group
    .command('replay')
    .description('decide recorded agent requests in order (state carried between them) and compare with "expect"')
    .requiredOption('--policy <file>', 'policy: a .rego file or a manifest with the policy annotation')
    .requiredOption('--requests <file>', 'JSON lines {"kind", "request", "expect"?}')
    .option('--resource <name>', 'which resource of the manifest holds the policy (kind/name or name)')
    .option('--host-data <hex>', 'HOST_DATA for SetPolicyRequest checks (SHA-256 of allowed policy text)')
    .option('--explain', 'explain each denial (failing checks with field paths)')
    .addOption(syntaxOption())
    .addHelpText('after', `\nRequest kinds (${REQUEST_KINDS.length}): ${REQUEST_KINDS.map((k) => k.request).join(', ')}`)
    .action(async (flags: PolicyFlags & { requests: string; explain?: boolean }, command: Command) => {
      const { json } = globalOptions(command);
      const { enforcer } = await loadEnforcer(flags);
      const { replay } = await import('../agent/replay.js');
      const { explainDenial } = await import('../agent/explain.js');
      const records = await readRecords(flags.requests, enforcer);
      const outcomes = replay(enforcer, records);
      let differ = 0;
      let unexpected = 0;
      for (const o of outcomes) {
        if (o.matches === false) differ++;
        if (o.matches === undefined) unexpected++;
        const d = o.decision;
        const explanation = flags.explain && !d.allowed ? explainDenial(enforcer, o.record.kind, o.record.request, d) : undefined;
        if (json) {
          printLine(JSON.stringify({ line: o.record.line, kind: d.kind, allowed: d.allowed, reason: d.reason, outcome: o.outcome, expect: o.record.expect, matches: o.matches, message: d.message, error: d.error, checks: explanation?.checks }));
        } else {
          const verdict = d.allowed ? (d.reason === 'allow_failures' ? 'ALLOWED (AllowRequestsFailingPolicy)' : 'allowed') : 'DENIED';
          const cmp = o.matches === undefined ? '   (no expect)' : o.matches ? '' : `   <-- expected ${JSON.stringify(o.record.expect)}`;
          printLine(`${String(o.record.line).padStart(4)} ${d.kind} ${verdict}${cmp}`);
          if (!d.allowed && d.error) printLine(`       error[${d.error.code}]: ${d.error.message}`);
          for (const check of explanation?.checks ?? []) printLine(`       ${check.message}`);
        }
      }
      // A line without "expect" is reported, never counted as a match.
      const summary = `${outcomes.length} requests: ${outcomes.length - differ - unexpected} as expected, ${differ} differ${unexpected > 0 ? `, ${unexpected} with no expectation` : ''}`;
      if (json) process.stderr.write(JSON.stringify({ level: 'info', msg: summary, requests: outcomes.length, differ, no_expectation: unexpected }) + '\n');
      else printLine(summary);
      if (differ > 0) process.exitCode = 1;
    });

  group
    .command('explain')
    .description('decide one request and, for a denial, name the failing checks (field path, value sent, values allowed)')
    .requiredOption('--policy <file>', 'policy: a .rego file or a manifest with the policy annotation')
    .option('--kind <kind>', 'request kind, e.g. CreateContainerRequest (or the method name CreateContainer); not needed for a replay line')
    .requiredOption('--request <file>', 'the request as JSON (or one replay line {"kind","request"})')
    .option('--after <file>', 'replay these recorded requests first (JSON lines, as policy replay reads), so the policy state they build (e.g. the containers CreateContainerRequest added) is there')
    .option('--resource <name>', 'which resource of the manifest holds the policy')
    .addOption(syntaxOption())
    .action(async (flags: PolicyFlags & { kind?: string; request: string; after?: string }, command: Command) => {
      const { json } = globalOptions(command);
      if (flags.kind !== undefined && !findRequestKind(flags.kind)) throw unknownKind(flags.kind);
      const { enforcer } = await loadEnforcer(flags);
      const { PolicyEnforcer } = await enforcerModule();
      const { explainDenial } = await import('../agent/explain.js');
      const { replay } = await import('../agent/replay.js');
      const before = flags.after ? await readRecords(flags.after, enforcer) : [];
      const text = await readInputText(flags.request);
      let request: unknown;
      try {
        request = JSON.parse(text);
      } catch (error) {
        throw new InputError('request_bad_json', `the request is not valid JSON: ${(error as Error).message}`, { location: { file: flags.request } });
      }
      let given = flags.kind;
      if (typeof request === 'object' && request !== null && 'request' in request && 'kind' in request) {
        const line = request as { kind: unknown; request: unknown };
        if (given === undefined && typeof line.kind === 'string') given = line.kind;
        request = line.request;
      }
      if (given === undefined) throw new UsageError('give the request kind: --kind KIND, or a replay line {"kind", "request"} as --request', { hint: 'e.g. --kind CreateContainerRequest' });
      const kind = findRequestKind(given)?.request;
      if (!kind) throw unknownKind(given);
      // The explaining engine replays the same requests, so it sees the state the decision saw.
      const explainer = PolicyEnforcer.fromText(enforcer.policyText, { syntax: flags.syntax });
      replay(enforcer, before);
      replay(explainer, before);
      const decision = enforcer.decide(kind, request);
      const explanation = explainDenial(explainer, kind, request, decision);
      if (json) printJson({ kind, allowed: decision.allowed, reason: decision.reason, message: decision.message, error: decision.error, checks: explanation.checks });
      else {
        printLine(`${kind}: ${decision.allowed ? 'allowed' : 'DENIED'}`);
        for (const check of explanation.checks) {
          printLine(`  ${check.message}`);
          if (check.rule) printLine(`    rule ${check.rule}${check.location ? ` at ${check.location.file}:${check.location.line}` : ''}: ${check.expression ?? ''}`);
          if (check.allowed.length > 0) printLine(`    policy allows: ${check.allowed.map((v) => JSON.stringify(v)).join(', ')}`);
        }
      }
      if (!decision.allowed) {
        // Without --after, a request that reads state (ExecProcessRequest needs the container that
        // CreateContainerRequest recorded) is denied for want of it; say how to give it.
        const stateless = before.length === 0 && explanation.checks.some((c) => /pstate/.test(c.expression ?? c.message));
        throw new CheckFailedError('request_denied', denialMessage(decision), stateless ? { hint: 'the check reads policy state (data.pstate), which is empty here: give the requests that build it with --after FILE (JSON lines, e.g. the CreateContainerRequest of that container)' } : {});
      }
    });
}
