/**
 * The simulated SEV-SNP chip: its own ARK -> ASK -> VCEK chain (ECDSA P-384 throughout, where AMD
 * uses RSA-PSS for the ARK and ASK) and well-formed version 2 reports signed by the VCEK.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { TcbVersion } from '../claims.js';
import { integer, ia5 } from '../certs/der.js';
import { buildCertificate, buildCrl, type ExtensionSpec, type Name } from '../certs/builder.js';
import { SIMULATOR_ORGANIZATION } from '../certs/roots.js';
import { POLICY_DEBUG_BIT, POLICY_RESERVED_ONE, encodeTcb, serialiseReport, withSignature } from '../snp/abi.js';
import { AMD_OID } from '../snp/vcek.js';

export interface SimSnpFields {
  reportData?: Buffer;
  hostData?: Buffer;
  measurement?: Buffer;
  policyDebug?: boolean;
  reportedTcb?: Partial<TcbVersion>;
  /** Issue the VCEK for this TCB instead of REPORTED_TCB (to drive `snp_tcb_mismatch`). */
  vcekTcb?: Partial<TcbVersion>;
  /** Issue the VCEK for another chip (to drive `snp_chip_id_mismatch`). */
  vcekChipId?: Buffer;
  /** Sign with a VLEK (issued by the ASVK, no chip binding) instead of the VCEK. */
  signingKey?: 'vcek' | 'vlek';
  /** VCEK validity window (default: a day ago to ten years ahead). */
  vcekNotBefore?: Date;
  vcekNotAfter?: Date;
}

export interface SimChainOptions {
  /** Leave the simulator marker out of the roots: a forged, untrusted chain (tests). */
  unmarked?: boolean;
}

export const SIM_DEFAULT_TCB: Omit<TcbVersion, 'raw'> = { bootloader: 4, tee: 0, snp: 22, microcode: 213 };
const DAY = 86_400_000;
const ASK_SERIAL = 2;

const ec384 = (): { publicKey: KeyObject; privateKey: KeyObject } => generateKeyPairSync('ec', { namedCurve: 'P-384' });

export class SimulatedSnpChip {
  readonly chipId = randomBytes(64);
  private readonly ark = ec384();
  private readonly ask = ec384();
  private readonly vcek = ec384();
  private readonly asvk = ec384();
  private readonly vlek = ec384();
  private readonly org: string;
  readonly arkDer: Buffer;
  readonly askDer: Buffer;
  readonly asvkDer: Buffer;

  constructor(options: SimChainOptions = {}) {
    this.org = options.unmarked ? 'Advanced Micro Devices' : SIMULATOR_ORGANIZATION;
    const now = Date.now();
    const arkName = this.name('ARK-Milan');
    this.arkDer = buildCertificate({
      subject: arkName, issuer: arkName, serial: 1, notBefore: new Date(now - DAY), notAfter: new Date(now + 25 * 365 * DAY),
      publicKey: this.ark.publicKey, signingKey: this.ark.privateKey, hash: 'sha384', ca: true,
    });
    this.askDer = buildCertificate({
      subject: this.name('SEV-Milan'), issuer: arkName, serial: ASK_SERIAL, notBefore: new Date(now - DAY), notAfter: new Date(now + 25 * 365 * DAY),
      publicKey: this.ask.publicKey, signingKey: this.ark.privateKey, hash: 'sha384', ca: true,
    });
    this.asvkDer = buildCertificate({
      subject: this.name('SEV-VLEK-Milan'), issuer: arkName, serial: 3, notBefore: new Date(now - DAY), notAfter: new Date(now + 25 * 365 * DAY),
      publicKey: this.asvk.publicKey, signingKey: this.ark.privateKey, hash: 'sha384', ca: true,
    });
  }

  private name(cn: string): Name {
    return { CN: cn, O: this.org, OU: 'Engineering' };
  }

  /** A VCEK (bound to `chipId`) or, with `vlek`, a VLEK (bound to no chip, issued by the ASVK) for `tcb`. */
  keyCertFor(tcb: Omit<TcbVersion, 'raw'>, chipId: Buffer, notBefore: Date, notAfter: Date, kind: 'vcek' | 'vlek' = 'vcek'): Buffer {
    const ext = (oid: string, value: Buffer): ExtensionSpec => ({ oid, value });
    const vlek = kind === 'vlek';
    return buildCertificate({
      subject: this.name(vlek ? 'SEV-VLEK' : 'SEV-VCEK'), issuer: this.name(vlek ? 'SEV-VLEK-Milan' : 'SEV-Milan'), serial: randomBytes(8), notBefore, notAfter,
      publicKey: (vlek ? this.vlek : this.vcek).publicKey, signingKey: (vlek ? this.asvk : this.ask).privateKey, hash: 'sha384',
      extensions: [
        ext(AMD_OID.structVersion, integer(1)),
        ext(AMD_OID.productName, ia5('Milan-B0')),
        ext(AMD_OID.blSpl, integer(tcb.bootloader)),
        ext(AMD_OID.teeSpl, integer(tcb.tee)),
        ext(AMD_OID.snpSpl, integer(tcb.snp)),
        ext(AMD_OID.ucodeSpl, integer(tcb.microcode)),
        vlek ? ext(AMD_OID.cspId, ia5('confcom-simulated-csp')) : { oid: AMD_OID.hwId, value: chipId },
      ],
    });
  }

  /** An ARK-signed CRL (as AMD KDS serves for the ASK), optionally revoking the ASK. */
  crl(options: { revokeAsk?: boolean; thisUpdate?: Date; nextUpdate?: Date } = {}): Buffer {
    const now = Date.now();
    return buildCrl({
      issuer: this.name('ARK-Milan'), signingKey: this.ark.privateKey, hash: 'sha384',
      thisUpdate: options.thisUpdate ?? new Date(now - DAY), nextUpdate: options.nextUpdate ?? new Date(now + 30 * DAY),
      revoked: options.revokeAsk ? [Buffer.from([ASK_SERIAL])] : [],
    });
  }

  /** A signed report and the certificates to verify it with (VCEK, ASK, ARK as DER). */
  report(fields: SimSnpFields): { report: Buffer; certs: Buffer[] } {
    const tcb = { ...SIM_DEFAULT_TCB, ...fields.reportedTcb };
    const vlek = fields.signingKey === 'vlek';
    const tcbValue = encodeTcb(tcb, 'milan');
    let policy = POLICY_RESERVED_ONE | (1n << 16n); // SMT allowed
    if (fields.policyDebug) policy |= POLICY_DEBUG_BIT;
    const body = serialiseReport({
      version: 2,
      policy,
      reportData: fields.reportData,
      hostData: fields.hostData,
      measurement: fields.measurement,
      reportId: randomBytes(32),
      reportedTcb: tcbValue,
      platformInfo: 1n,
      chipId: this.chipId,
      // SIGNING_KEY (bits 2-4): 0 VCEK, 1 VLEK.
      flags: vlek ? 1 << 2 : 0,
    });
    const rs = sign('sha384', body.subarray(0, 0x2a0), { key: (vlek ? this.vlek : this.vcek).privateKey, dsaEncoding: 'ieee-p1363' });
    const now = Date.now();
    const keyCert = this.keyCertFor(
      { ...tcb, ...fields.vcekTcb },
      fields.vcekChipId ?? this.chipId,
      fields.vcekNotBefore ?? new Date(now - DAY),
      fields.vcekNotAfter ?? new Date(now + 10 * 365 * DAY),
      vlek ? 'vlek' : 'vcek',
    );
    return { report: withSignature(body, rs), certs: [keyCert, vlek ? this.asvkDer : this.askDer, this.arkDer] };
  }
}

