/**
 * Reference values (`--reference FILE`, JSON or YAML): what the appraisal policy compares claims with.
 * Parsing checks every field's type and hex length and names the field path on error, so a typo does
 * not silently turn a check off; hex is lower-cased so the policy compares exact strings.
 */
import { parse as parseYaml } from '../../core/yaml.js';
import { InputError } from '../../core/errors.js';
import { readInputText } from '../../core/fs.js';
import type { ReferenceValues, SnpTcb } from './types.js';

type Obj = Record<string, unknown>;

class ReferenceReader {
  constructor(private readonly file: string | undefined) {}

  fail(path: string, message: string): never {
    throw new InputError('reference_invalid', `reference values: ${path}: ${message}`, {
      location: { file: this.file, path },
      hint: 'see the reference-values format in README (snp: measurements, host_data, min_tcb; sgx: mrenclave, mrsigner, ...)',
    });
  }

  object(value: unknown, path: string): Obj {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(path, 'expected an object');
    return value as Obj;
  }

  only(obj: Obj, path: string, keys: readonly string[]): void {
    for (const key of Object.keys(obj)) if (!keys.includes(key)) this.fail(`${path}.${key}`, `unknown field (known: ${keys.join(', ')})`);
  }

  hexList(value: unknown, path: string, bytes: number): string[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) this.fail(path, 'expected a list of hex strings');
    return value.map((item, i) => {
      if (typeof item !== 'string' || !/^[0-9a-fA-F]*$/.test(item) || item.length !== bytes * 2) {
        this.fail(`${path}[${i}]`, `expected ${bytes} bytes as ${bytes * 2} hex digits`);
      }
      return item.toLowerCase();
    });
  }

  uint(value: unknown, path: string): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) this.fail(path, 'expected a non-negative integer');
    return value;
  }

  bool(value: unknown, path: string): boolean | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') this.fail(path, 'expected true or false');
    return value;
  }

  strings(value: unknown, path: string): string[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) this.fail(path, 'expected a list of strings');
    return value as string[];
  }
}

function dropUndefined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

/** Validates and normalises reference values given as parsed JSON/YAML. */
export function parseReferenceValues(doc: unknown, file?: string): ReferenceValues {
  const r = new ReferenceReader(file);
  if (doc === null || doc === undefined) return {};
  const root = r.object(doc, '$');
  r.only(root, '$', ['snp', 'sgx', 'tdx']);
  const out: ReferenceValues = {};
  if (root.snp !== undefined) {
    const snp = r.object(root.snp, 'snp');
    r.only(snp, 'snp', ['measurements', 'host_data', 'min_tcb', 'min_guest_svn', 'max_vmpl', 'allow_debug', 'allow_migration_agent']);
    let minTcb: Partial<SnpTcb> | undefined;
    if (snp.min_tcb !== undefined) {
      const tcb = r.object(snp.min_tcb, 'snp.min_tcb');
      r.only(tcb, 'snp.min_tcb', ['bootloader', 'tee', 'snp', 'microcode', 'fmc']);
      minTcb = dropUndefined({
        bootloader: r.uint(tcb.bootloader, 'snp.min_tcb.bootloader'),
        tee: r.uint(tcb.tee, 'snp.min_tcb.tee'),
        snp: r.uint(tcb.snp, 'snp.min_tcb.snp'),
        microcode: r.uint(tcb.microcode, 'snp.min_tcb.microcode'),
        fmc: r.uint(tcb.fmc, 'snp.min_tcb.fmc'),
      });
    }
    out.snp = dropUndefined({
      measurements: r.hexList(snp.measurements, 'snp.measurements', 48),
      host_data: r.hexList(snp.host_data, 'snp.host_data', 32),
      min_tcb: minTcb,
      min_guest_svn: r.uint(snp.min_guest_svn, 'snp.min_guest_svn'),
      max_vmpl: r.uint(snp.max_vmpl, 'snp.max_vmpl'),
      allow_debug: r.bool(snp.allow_debug, 'snp.allow_debug'),
      allow_migration_agent: r.bool(snp.allow_migration_agent, 'snp.allow_migration_agent'),
    });
  }
  if (root.sgx !== undefined) {
    const sgx = r.object(root.sgx, 'sgx');
    r.only(sgx, 'sgx', ['mrenclave', 'mrsigner', 'isvprodid', 'min_isvsvn', 'allow_debug', 'tcb_status']);
    out.sgx = dropUndefined({
      mrenclave: r.hexList(sgx.mrenclave, 'sgx.mrenclave', 32),
      mrsigner: r.hexList(sgx.mrsigner, 'sgx.mrsigner', 32),
      isvprodid: r.uint(sgx.isvprodid, 'sgx.isvprodid'),
      min_isvsvn: r.uint(sgx.min_isvsvn, 'sgx.min_isvsvn'),
      allow_debug: r.bool(sgx.allow_debug, 'sgx.allow_debug'),
      tcb_status: r.strings(sgx.tcb_status, 'sgx.tcb_status'),
    });
  }
  if (root.tdx !== undefined) {
    const tdx = r.object(root.tdx, 'tdx');
    r.only(tdx, 'tdx', ['mr_td', 'allow_debug', 'tcb_status', 'allow_unchecked_revocation']);
    out.tdx = dropUndefined({
      mr_td: r.hexList(tdx.mr_td, 'tdx.mr_td', 48),
      allow_debug: r.bool(tdx.allow_debug, 'tdx.allow_debug'),
      tcb_status: r.strings(tdx.tcb_status, 'tdx.tcb_status'),
      allow_unchecked_revocation: r.bool(tdx.allow_unchecked_revocation, 'tdx.allow_unchecked_revocation'),
    });
  }
  return out;
}

/** Reads reference values from a JSON or YAML file. */
export async function loadReferenceValues(file: string): Promise<ReferenceValues> {
  const text = await readInputText(file);
  let doc: unknown;
  try {
    doc = parseYaml(text); // YAML is a superset of JSON
  } catch (error) {
    throw new InputError('reference_invalid', `reference values: ${file} is not valid JSON or YAML: ${(error as Error).message}`, { location: { file } });
  }
  return parseReferenceValues(doc, file);
}
