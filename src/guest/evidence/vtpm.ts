/**
 * Evidence on Azure confidential VMs (az-snp-vtpm): the paravisor (HCL) keeps a SEV-SNP report in TPM
 * NV index 0x01400001. Writing 64 bytes of user data to NV index 0x01400002 makes the HCL fetch a fresh
 * report whose runtime claims carry that data; the report is then read back, and a TPM2_Quote by the
 * attestation key (persistent handle 0x81000003) with the same bytes as qualifyingData binds the vTPM
 * state to it. The KBS binding (REPORT_DATA) is therefore both the report's user data and the quote's
 * nonce, as trustee's az-snp-vtpm attester sends it.
 */
import { EvidenceError } from '../errors.js';
import { DeviceTransport, Tpm, type TpmTransport } from './tpm2.js';
import { padReportData, type EvidenceProvider, type GuestEvidence } from './provider.js';

export const HCL_REPORT_INDEX = 0x01400001;
export const HCL_USER_DATA_INDEX = 0x01400002;
export const AZURE_AK_HANDLE = 0x81000003;
/** The SNP report sits after the HCL header (32 bytes) in the NV contents. */
const HCL_HEADER = 32;
const SNP_REPORT_BYTES = 1184;

export interface VtpmOptions {
  device?: string;
  /** A transport of our own (tests: a fake device). */
  transport?: () => Promise<TpmTransport>;
}

export class AzureVtpmProvider implements EvidenceProvider {
  readonly name = 'az-vtpm';
  readonly tee = 'az-snp-vtpm' as const;
  readonly simulated = false;

  constructor(private readonly options: VtpmOptions = {}) {}

  async evidence(reportData: Buffer): Promise<GuestEvidence> {
    const data = padReportData(reportData);
    const transport = await (this.options.transport ?? (() => DeviceTransport.open(this.options.device)))();
    try {
      const tpm = new Tpm(transport);
      if (!(await tpm.nvReadPublic(HCL_USER_DATA_INDEX))) await tpm.nvDefineSpace(HCL_USER_DATA_INDEX, data.length);
      await tpm.nvWrite(HCL_USER_DATA_INDEX, data);
      const pub = await tpm.nvReadPublic(HCL_REPORT_INDEX);
      if (!pub) throw new EvidenceError('vtpm_no_hcl_report', 'the vTPM has no HCL report (NV index 0x01400001)', { hint: 'this is not an Azure confidential VM' });
      const hcl = await tpm.nvRead(HCL_REPORT_INDEX, pub.dataSize);
      if (hcl.length < HCL_HEADER + SNP_REPORT_BYTES) throw new EvidenceError('vtpm_hcl_report_short', `the HCL report is ${hcl.length} bytes, too short for an SNP report`);
      const quote = await tpm.quote(AZURE_AK_HANDLE, data);
      return {
        tee: 'az-snp-vtpm',
        simulated: false,
        report: hcl,
        wire: {
          report: hcl.toString('base64'),
          quote: { message: quote.message.toString('base64'), signature: quote.signature.toString('base64') },
        },
      };
    } finally {
      await transport.close();
    }
  }
}

/** The SNP report inside an HCL report. */
export function snpReportOfHcl(hcl: Buffer): Buffer {
  return hcl.subarray(HCL_HEADER, HCL_HEADER + SNP_REPORT_BYTES);
}
