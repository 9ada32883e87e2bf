/**
 * EPC (enclave page cache) discovery on Linux, in this order: an explicit `--epc-size` (the operator
 * knows best, e.g. to keep some EPC back), the kernel's per-NUMA-node sysfs counters
 * (`/sys/devices/system/node/node<N>/x86/sgx_total_bytes`, Linux 6.x), then CPUID leaf 0x12 read
 * through `/dev/cpu/<N>/cpuid` (needs the cpuid module and root). Nothing found: a result that says
 * why, and the plugin advertises nothing.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../core/errors.js';

export interface EpcSection {
  /** NUMA node, when the source tells. */
  node?: number;
  bytes: number;
}

export type EpcDiscovery =
  | { found: true; source: 'configured' | 'sysfs' | 'cpuid'; totalBytes: number; sections: EpcSection[] }
  | { found: false; reason: string };

export interface EpcDiscoveryOptions {
  configuredBytes?: number;
  /** Root of sysfs (default /sys); tests point it at a fixture tree. */
  sysRoot?: string;
  /** Folder with the per-CPU cpuid devices (default /dev/cpu). */
  cpuDevRoot?: string;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, ki: 1024, kib: 1024, mi: 1024 ** 2, mib: 1024 ** 2, gi: 1024 ** 3, gib: 1024 ** 3, ti: 1024 ** 4, tib: 1024 ** 4 };

/** `--epc-size`: bytes, or a number with a unit (`64MiB`, `8Gi`, `512GiB`, `1G`). */
export function parseSize(text: string, flag = '--epc-size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new UsageError(`${flag} '${text}' is not a size`, { hint: 'use bytes or a unit: 64MiB, 8GiB, 512Gi' });
  }
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new UsageError(`${flag} '${text}' must be a positive size`);
  return bytes;
}

function fromSysfs(sysRoot: string): EpcSection[] {
  const nodesDir = join(sysRoot, 'devices/system/node');
  if (!existsSync(nodesDir)) return [];
  const sections: EpcSection[] = [];
  for (const entry of readdirSync(nodesDir)) {
    const m = /^node(\d+)$/.exec(entry);
    if (!m) continue;
    const file = join(nodesDir, entry, 'x86/sgx_total_bytes');
    if (!existsSync(file)) continue;
    const bytes = Number(readFileSync(file, 'utf8').trim());
    if (Number.isSafeInteger(bytes) && bytes > 0) sections.push({ node: Number(m[1]), bytes });
  }
  return sections.sort((a, b) => (a.node ?? 0) - (b.node ?? 0));
}

/** One CPUID query through the cpuid driver: the file offset encodes leaf (low 32 bits) and subleaf (high 32). */
function cpuid(fd: number, leaf: number, subleaf: number): { eax: number; ebx: number; ecx: number; edx: number } {
  const buf = Buffer.alloc(16);
  const position = (BigInt(subleaf) << 32n) | BigInt(leaf);
  if (readSync(fd, buf, 0, 16, position) !== 16) throw new Error('short cpuid read');
  return { eax: buf.readUInt32LE(0), ebx: buf.readUInt32LE(4), ecx: buf.readUInt32LE(8), edx: buf.readUInt32LE(12) };
}

/** CPUID.(EAX=12H, ECX=2..): each valid sub-leaf (type 1 in EAX[3:0]) is one EPC section. */
function fromCpuid(cpuDevRoot: string): EpcSection[] {
  const file = join(cpuDevRoot, '0/cpuid');
  if (!existsSync(file)) return [];
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    if ((cpuid(fd, 0x12, 0).eax & 1) === 0) return []; // no SGX1
    const sections: EpcSection[] = [];
    for (let sub = 2; sub < 2 + 64; sub++) {
      const r = cpuid(fd, 0x12, sub);
      if ((r.eax & 0xf) !== 1) break;
      const bytes = (r.ecx & 0xfffff000) + (r.edx & 0xfffff) * 2 ** 32;
      if (bytes > 0) sections.push({ bytes });
    }
    return sections;
  } catch {
    return [];
  } finally {
    closeSync(fd);
  }
}

export function discoverEpc(options: EpcDiscoveryOptions = {}): EpcDiscovery {
  const total = (sections: EpcSection[]) => sections.reduce((n, s) => n + s.bytes, 0);
  if (options.configuredBytes !== undefined) {
    return { found: true, source: 'configured', totalBytes: options.configuredBytes, sections: [{ bytes: options.configuredBytes }] };
  }
  const sysRoot = options.sysRoot ?? '/sys';
  const sysfs = fromSysfs(sysRoot);
  if (sysfs.length > 0) return { found: true, source: 'sysfs', totalBytes: total(sysfs), sections: sysfs };
  const cpuDevRoot = options.cpuDevRoot ?? '/dev/cpu';
  const fromCpu = fromCpuid(cpuDevRoot);
  if (fromCpu.length > 0) return { found: true, source: 'cpuid', totalBytes: total(fromCpu), sections: fromCpu };
  return {
    found: false,
    reason: `no SGX EPC found: no ${join(sysRoot, 'devices/system/node/node*/x86/sgx_total_bytes')}, no EPC section through CPUID leaf 0x12 (${join(cpuDevRoot, '0/cpuid')}), and no --epc-size`,
  };
}
