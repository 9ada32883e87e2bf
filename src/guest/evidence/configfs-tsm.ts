/**
 * Evidence through Linux's configfs-tsm ABI (Documentation/ABI/testing/configfs-tsm), plain file I/O:
 *
 *   mkdir  <root>/<entry>            a report request of our own
 *   write  <entry>/inblob            the 64 bytes of REPORT_DATA
 *   read   <entry>/generation        bumped by the kernel on every write to the entry
 *   read   <entry>/outblob           the report (SEV-SNP: 1184 bytes; TDX: a quote)
 *   read   <entry>/auxblob           SEV-SNP: the certificate table (may be absent or empty)
 *   read   <entry>/provider          sev_guest | tdx_guest
 *   rmdir  <entry>
 *
 * Another process writing the same entry between our write and our read would hand us a report for
 * its REPORT_DATA, so generation is read before and after the blobs and the whole request is repeated
 * when it moved (or is not the one our write produced). Each request uses a fresh entry name.
 */
import { promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { EvidenceError } from '../errors.js';
import { orderedChain, parseCertTable } from './cert-table.js';
import { padReportData, snpWire, type EvidenceProvider, type GuestEvidence, type GuestTee } from './provider.js';

export const TSM_REPORT_ROOT = '/sys/kernel/config/tsm/report';

/** The file operations used, so tests can emulate the kernel's side of configfs. */
export interface TsmFs {
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  writeFile(path: string, data: Buffer): Promise<void>;
  readFile(path: string): Promise<Buffer>;
}

export const nodeTsmFs: TsmFs = {
  mkdir: async (p) => void (await fsp.mkdir(p)),
  rmdir: (p) => fsp.rmdir(p),
  writeFile: (p, d) => fsp.writeFile(p, d),
  readFile: (p) => fsp.readFile(p),
};

const PROVIDERS: Record<string, GuestTee> = { sev_guest: 'snp', tdx_guest: 'tdx' };

export interface ConfigfsTsmOptions {
  root?: string;
  fs?: TsmFs;
  /** How many times a request is repeated when generation moved (default 5). */
  attempts?: number;
}

export class ConfigfsTsmProvider implements EvidenceProvider {
  readonly name = 'configfs-tsm';
  readonly simulated = false;
  readonly root: string;
  private readonly fs: TsmFs;
  private readonly attempts: number;
  /** Known after the first request (from the entry's `provider`); SEV-SNP until then. */
  tee: GuestTee = 'snp';

  constructor(options: ConfigfsTsmOptions = {}) {
    this.root = options.root ?? TSM_REPORT_ROOT;
    this.fs = options.fs ?? nodeTsmFs;
    this.attempts = options.attempts ?? 5;
  }

  async evidence(reportData: Buffer): Promise<GuestEvidence> {
    const inblob = padReportData(reportData);
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      const result = await this.once(inblob);
      if (result) return result;
    }
    throw new EvidenceError('tsm_generation_race', `configfs-tsm: the report entry kept changing under us (${this.attempts} attempts)`, {
      hint: 'another process is writing the same report entry; retry later',
    });
  }

  private async read(path: string, what: string, optional = false): Promise<Buffer | undefined> {
    try {
      return await this.fs.readFile(path);
    } catch (error) {
      if (optional) return undefined;
      throw new EvidenceError('tsm_read_failed', `configfs-tsm: cannot read ${what} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { location: { file: path } });
    }
  }

  /** One request; undefined when generation shows a concurrent writer. */
  private async once(inblob: Buffer): Promise<GuestEvidence | undefined> {
    const entry = join(this.root, `confcom-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      await this.fs.mkdir(entry);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new EvidenceError('tsm_unavailable', `configfs-tsm: cannot create a report entry under ${this.root} (${code})`, {
        location: { file: this.root },
        hint: 'the guest kernel needs CONFIG_TSM_REPORTS and a TEE guest driver (sev-guest, tdx-guest); mount configfs at /sys/kernel/config',
      });
    }
    try {
      const before = generation(await this.read(join(entry, 'generation'), 'generation'));
      await this.fs.writeFile(join(entry, 'inblob'), inblob).catch((error: NodeJS.ErrnoException) => {
        throw new EvidenceError('tsm_write_failed', `configfs-tsm: cannot write inblob (${error.code ?? 'error'})`, { location: { file: join(entry, 'inblob') } });
      });
      const written = generation(await this.read(join(entry, 'generation'), 'generation'));
      const outblob = (await this.read(join(entry, 'outblob'), 'outblob')) as Buffer;
      const auxblob = await this.read(join(entry, 'auxblob'), 'auxblob', true);
      const provider = ((await this.read(join(entry, 'provider'), 'provider')) as Buffer).toString('utf8').trim();
      const after = generation(await this.read(join(entry, 'generation'), 'generation'));
      if (written !== before + 1 || after !== written) return undefined;
      const tee = PROVIDERS[provider];
      if (!tee) throw new EvidenceError('tsm_provider_unsupported', `configfs-tsm: provider '${provider.slice(0, 32)}' is not supported`, { hint: 'supported: sev_guest (SEV-SNP), tdx_guest (TDX)' });
      if (outblob.length === 0) throw new EvidenceError('tsm_empty_report', 'configfs-tsm: the TEE returned an empty report');
      this.tee = tee;
      if (tee === 'tdx') return { tee, simulated: false, report: outblob, wire: { quote: outblob.toString('base64') } };
      let certs: Buffer[] = [];
      if (auxblob && auxblob.length > 0) {
        try {
          certs = orderedChain(parseCertTable(auxblob));
        } catch (error) {
          throw new EvidenceError('tsm_auxblob_invalid', `configfs-tsm: auxblob is not a certificate table: ${(error as Error).message}`);
        }
      }
      return { tee, simulated: false, report: outblob, wire: snpWire(outblob, certs) };
    } finally {
      await this.fs.rmdir(entry).catch(() => undefined);
    }
  }
}

function generation(raw: Buffer | undefined): number {
  const n = Number((raw ?? Buffer.alloc(0)).toString('utf8').trim());
  if (!Number.isInteger(n)) throw new EvidenceError('tsm_generation_invalid', 'configfs-tsm: generation is not a number');
  return n;
}
