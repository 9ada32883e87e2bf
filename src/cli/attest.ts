/** `confcom attest ...`: verify SEV-SNP reports and SGX quotes (issue: remote attestation). */
import { Command } from './commander.js';
import { readFile } from 'node:fs/promises';
import { CheckFailedError, UsageError, fileError } from '../core/errors.js';
import { judgeTcb, parseAllowTcb, TCB_NAMES } from '../attest/appraisal/tcb.js';
import { EvidenceFormatError } from '../attest/claims.js';
import { checkRuntimeData, describeClaims, verifyEvidence } from '../attest/verify.js';
import { globalOptions, printJson, printLine } from './context.js';

interface VerifyFlags {
  evidence: string;
  cert: string[];
  crl: string[];
  collateral?: string;
  at?: string;
  policy?: string;
  reference?: string;
  trustSimulator: boolean;
  allowMissingCrls: boolean;
  allowTcb?: string;
  runtimeData?: string;
}

async function read(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw fileError(file, error);
  }
}

function parseTime(text: string): Date {
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) throw new UsageError(`--at '${text}' is not a time`, { hint: 'use ISO 8601, e.g. 2025-07-01T00:00:00Z' });
  return at;
}

/** Collateral without CRLs: name the flag that accepts it (TDX), instead of leaving the user to find it. */
function withCrlHint(error: unknown, allowed: boolean): unknown {
  const crl = error instanceof EvidenceFormatError && error.code === 'sgx_collateral_malformed' && ['pck_crl', 'root_ca_crl'].includes(error.location?.path ?? '');
  if (!crl || allowed) return error;
  return new EvidenceFormatError(error.code, error.message, {
    location: error.location,
    cause: error,
    hint: 'add the CRLs to the collateral (PCCS/Intel PCS serve them), or for a TDX quote accept it without them with --allow-missing-crls (revocation is then unchecked)',
  });
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerAttest(program: Command): void {
  const group = program.command('attest').description('verify TEE evidence (AMD SEV-SNP reports, Intel SGX DCAP quotes)');
  group
    .command('verify')
    .description('verify evidence (SEV-SNP report, raw/hex/Azure JSON; or SGX quote) against pinned AMD/Intel roots; exit 0 verified, 1 refused, 2 bad input')
    .requiredOption('--evidence <file>', 'the report or quote (raw, hex, or JSON with report + vcekCert/certificateChain, or quote + collateral)')
    .option('--cert <file>', 'a certificate (DER or PEM; VCEK/VLEK, ASK or PCK chain); repeatable', collect, [])
    .option('--crl <file>', 'a CRL (DER, PEM or hex); repeatable', collect, [])
    .option('--collateral <file>', 'SGX collateral JSON (TCB info, QE identity, CRLs)')
    .option('--at <time>', 'verify as of this time (ISO 8601) instead of now')
    .option('--policy <file>', 'appraise the verified claims with this Rego appraisal policy')
    .option('--reference <file>', 'reference values for the appraisal policy (JSON/YAML)')
    .option('--allow-tcb <statuses>', `without --policy, accept these TCB statuses too (comma-separated; refused by default: out-of-date, out-of-date-configuration-needed, revoked; all names: ${TCB_NAMES.join(', ')})`)
    .option('--runtime-data <file>', 'check that REPORT_DATA binds this file (SHA-256/384/512 of it, zero-padded, or its bytes)')
    .option('--trust-simulator', "accept evidence from confcom's software TEE (tests, local mode)", false)
    .option('--allow-missing-crls', 'TDX: accept collateral without CRLs (revocation unchecked; the claims say so)', false)
    .action(async (flags: VerifyFlags, command: Command) => {
      const { json } = globalOptions(command);
      const evidence = await read(flags.evidence);
      const certs = await Promise.all(flags.cert.map(read));
      const crls = await Promise.all(flags.crl.map(read));
      const collateral = flags.collateral === undefined ? undefined : await read(flags.collateral);
      const at = flags.at === undefined ? undefined : parseTime(flags.at);
      const allowed = parseAllowTcb(flags.allowTcb ?? '');
      const runtimeData = flags.runtimeData === undefined ? undefined : await read(flags.runtimeData);
      const claims = await verifyEvidence(evidence, { certs, crls, collateral, at, trustSimulator: flags.trustSimulator, allowMissingCrls: flags.allowMissingCrls }).catch((error: unknown) => {
        throw withCrlHint(error, flags.allowMissingCrls);
      });
      const binding = runtimeData === undefined ? undefined : checkRuntimeData(claims, runtimeData);
      const described = describeClaims(claims);
      const summary = binding === undefined ? described.summary : [...described.summary, `  runtime_data  bound (${binding})`];
      if (flags.policy === undefined && flags.reference === undefined) {
        // No policy to judge the TCB: refuse OutOfDate/Revoked platforms unless --allow-tcb names them.
        judgeTcb(described.tcbStatus, allowed);
        if (json) printJson({ verified: true, claims, tcbStatus: described.tcbStatus, ...(binding ? { runtimeDataBinding: binding } : {}) });
        else summary.forEach(printLine);
        return;
      }
      // Loaded only when asked for: appraisal brings the Rego engine, plain verification does not need it.
      const { appraise, loadAppraisalPolicy, loadReferenceValues } = await import('../attest/appraisal/index.js');
      const policy = flags.policy === undefined ? undefined : await loadAppraisalPolicy(flags.policy);
      const reference = flags.reference === undefined ? undefined : await loadReferenceValues(flags.reference);
      const appraisal = await appraise(claims, { policy, reference });
      if (json) printJson({ verified: true, claims, appraisal });
      else {
        summary.forEach(printLine);
        printLine(`appraisal (${appraisal.policy.name}): ${appraisal.decision.allow ? 'allowed' : 'denied'}`);
        appraisal.decision.reasons.forEach((r) => printLine(`  - ${r}`));
      }
      if (!appraisal.decision.allow) {
        throw new CheckFailedError('appraisal_denied', `the appraisal policy denied the evidence: ${appraisal.decision.reasons.join('; ') || 'no reason given'}`, {
          hint: 'see the reasons above; adjust the evidence or the reference values',
        });
      }
    });
}
