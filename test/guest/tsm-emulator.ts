/**
 * An emulated configfs-tsm tree in a temp folder: the kernel's side (a fresh entry has generation 0
 * and a provider; every write bumps generation; outblob is produced from inblob by the simulated SNP
 * chip, auxblob is the certificate table) done inside the TsmFs calls, on real files, so the test can
 * read back exactly what the agent wrote.
 */
import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { SimulatedTee } from '../../src/attest/sim/index.js';
import type { TsmFs } from '../../src/guest/evidence/configfs-tsm.js';
import { buildCertTable } from '../../src/guest/evidence/cert-table.js';

export interface TsmEmulator {
  fs: TsmFs;
  /** Every inblob written, in order, as the bytes on disk. */
  inblobs: Buffer[];
  /** Every outblob produced. */
  outblobs: Buffer[];
  entries: string[];
  /** Bump generation this many extra times after the next inblob write (a concurrent writer). */
  raceNext: number;
  /** Entries left behind (should be none). */
  leftovers(): Promise<string[]>;
}

export function tsmEmulator(root: string, tee: SimulatedTee, options: { provider?: string; hostData?: Buffer } = {}): TsmEmulator {
  const bump = async (entry: string, by = 1) => {
    const g = Number((await readFile(join(entry, 'generation'), 'utf8')).trim());
    await writeFile(join(entry, 'generation'), `${g + by}\n`);
  };
  const emulator: TsmEmulator = {
    inblobs: [],
    outblobs: [],
    entries: [],
    raceNext: 0,
    leftovers: async () => (await import('node:fs/promises')).readdir(root),
    fs: {
      mkdir: async (path) => {
        await mkdir(path);
        emulator.entries.push(basename(path));
        await writeFile(join(path, 'generation'), '0\n');
        await writeFile(join(path, 'provider'), `${options.provider ?? 'sev_guest'}\n`);
      },
      rmdir: async (path) => {
        for (const f of ['generation', 'provider', 'inblob', 'outblob', 'auxblob']) await rm(join(path, f), { force: true });
        await rmdir(path);
      },
      writeFile: async (path, data) => {
        await writeFile(path, data);
        const entry = dirname(path);
        if (basename(path) !== 'inblob') return;
        const written = await readFile(path);
        emulator.inblobs.push(written);
        const { report, certs } = await tee.snpReport({ reportData: written, hostData: options.hostData });
        emulator.outblobs.push(report);
        await writeFile(join(entry, 'outblob'), report);
        await writeFile(join(entry, 'auxblob'), buildCertTable([{ kind: 'vcek', der: certs[0] }, { kind: 'ask', der: certs[1] }, { kind: 'ark', der: certs[2] }]));
        await bump(entry, 1 + emulator.raceNext);
        emulator.raceNext = 0;
      },
      readFile: (path) => readFile(path),
    },
  };
  return emulator;
}
