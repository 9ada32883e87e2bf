/**
 * Judging TCB statuses without a policy: OutOfDate and Revoked platforms (Intel's vocabulary, which
 * the TEE modules report in) are refused unless the caller names them in an allow list. Names are
 * kebab-case of the status: `out-of-date`, `out-of-date-configuration-needed`, `revoked`.
 */
import { UsageError } from '../../core/errors.js';
import { AttestationError } from '../claims.js';

/** Statuses refused by default: the platform runs firmware or microcode with known, fixed flaws. */
const REFUSED = ['OutOfDate', 'OutOfDateConfigurationNeeded', 'Revoked'];
/** Statuses a caller may name in --allow-tcb. */
const KNOWN = [...REFUSED, 'UpToDate', 'SWHardeningNeeded', 'ConfigurationNeeded', 'ConfigurationAndSWHardeningNeeded'];

export const tcbName = (status: string): string => status.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();

/** The names --allow-tcb takes, as its error lists them (the CLI help prints the same list). */
export const TCB_NAMES: readonly string[] = KNOWN.map(tcbName);

/** Parses `out-of-date,revoked` into the statuses it allows; unknown names are a usage error. */
export function parseAllowTcb(text: string): Set<string> {
  const byName = new Map(KNOWN.map((s) => [tcbName(s), s]));
  const out = new Set<string>();
  for (const name of text.split(',').map((n) => n.trim().toLowerCase()).filter(Boolean)) {
    const status = byName.get(name);
    if (!status) throw new UsageError(`--allow-tcb: unknown TCB status '${name}'`, { hint: `use some of: ${TCB_NAMES.join(', ')}` });
    out.add(status);
  }
  return out;
}

/** Throws `tcb_out_of_date` / `tcb_revoked` for a refused status the allow list does not name. */
export function judgeTcb(statuses: readonly string[], allowed: ReadonlySet<string>): void {
  for (const status of statuses) {
    if (!REFUSED.includes(status) || allowed.has(status)) continue;
    throw new AttestationError(status === 'Revoked' ? 'tcb_revoked' : 'tcb_out_of_date', `the TCB status is ${status}`, {
      hint: `update the platform's firmware/microcode, or accept it with --allow-tcb ${tcbName(status)}`,
    });
  }
}
