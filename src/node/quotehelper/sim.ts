/**
 * The `sim` backend: quotes from confcom's software TEE (src/attest/sim), for tests and the local mode.
 * INSECURE by design: there is no CPU to check the report's MAC, so the quote carries whatever the report
 * body says, and it is signed by the simulator's generated PCK chain, which verifiers refuse unless
 * told to trust the simulator (and then mark every result simulated).
 */
import { createHash } from 'node:crypto';
import { SimulatedSgxPlatform } from '../../attest/sim/index.js';
import { parseReportBody } from '../../attest/sgx/abi.js';
import type { SgxCollateralInput } from '../../attest/sgx/collateral.js';
import { AesmFailure, type QuoteBackend } from './backend.js';
import { AesmError, encodeResponse, type AesmRequest, type AesmResponseBody, type RequestKind } from './messages.js';
import {
  ALG_ECDSA_P256, ATT_KEY_ID_SIZE, QE_REPORT_INFO_SIZE, REPORT_SIZE, REPORT_BODY_SIZE, TARGET_INFO_SIZE,
  attKeyAlgorithm, ecdsaAttKeyId, reportFromBody, targetInfo,
} from './structs.js';

/** Stand-ins for the simulated quoting enclave's identity (what InitQuoteEx's target info names). */
const SIM_QE_MRENCLAVE = createHash('sha256').update('confcom simulated QE MRENCLAVE').digest();
const SIM_QE_MRSIGNER = createHash('sha256').update('confcom simulated quoting enclave').digest();
const SIM_QE_ATTRIBUTES = Buffer.from('11000000000000000700000000000000', 'hex');
/** The ECDSA public-key ID InitQuoteEx returns (SHA-256 of the simulated platform's marker). */
const PUB_KEY_ID = createHash('sha256').update('confcom simulated attestation key').digest();

export class SimQuoteBackend implements QuoteBackend {
  readonly name = 'sim';
  readonly attKeyId = ecdsaAttKeyId(SIM_QE_MRSIGNER);
  private readonly platform = new SimulatedSgxPlatform();
  private quoteSize: number | undefined;
  private latestCollateral: SgxCollateralInput | undefined;

  /** Collateral (TCB info, QE identity, CRLs) matching the quotes this backend signs, as a PCCS would serve it. */
  collateral(): SgxCollateralInput {
    this.latestCollateral ??= this.platform.quote({}).collateral;
    return this.latestCollateral;
  }

  private size(): number {
    // Every quote of one platform has the same size: fixed-size signatures and the same PCK chain.
    this.quoteSize ??= this.platform.quote({}).quote.length;
    return this.quoteSize;
  }

  private checkKey(attKeyId: Uint8Array | undefined): void {
    if (attKeyId === undefined || attKeyId.length === 0) return; // absent: the default key
    const algorithm = attKeyAlgorithm(Buffer.from(attKeyId));
    if (attKeyId.length !== ATT_KEY_ID_SIZE || algorithm !== ALG_ECDSA_P256) throw new AesmFailure(AesmError.PARAMETER_ERROR, 'unsupported attestation key ID');
  }

  async answer(kind: RequestKind, request: AesmRequest): Promise<Buffer> {
    return encodeResponse(kind, this.body(kind, request));
  }

  private body(kind: RequestKind, request: AesmRequest): AesmResponseBody {
    const ok = AesmError.SUCCESS;
    switch (kind) {
      case 'initQuoteExReq': {
        const r = request.initQuoteExReq!;
        this.checkKey(r.att_key_id);
        const body: AesmResponseBody = { errorCode: ok, target_info: targetInfo(SIM_QE_MRENCLAVE, SIM_QE_ATTRIBUTES), pub_key_id_size: PUB_KEY_ID.length };
        if (r.b_pub_key_id) {
          if ((r.buf_size ?? 0) < PUB_KEY_ID.length) throw new AesmFailure(AesmError.PARAMETER_ERROR, 'pub_key_id buffer too small');
          body.pub_key_id = PUB_KEY_ID;
        }
        return body;
      }
      case 'getQuoteSizeExReq':
        this.checkKey(request.getQuoteSizeExReq!.att_key_id);
        return { errorCode: ok, quote_size: this.size() };
      case 'getQuoteExReq': {
        const r = request.getQuoteExReq!;
        this.checkKey(r.att_key_id);
        if (r.report.length !== REPORT_SIZE) throw new AesmFailure(AesmError.PARAMETER_ERROR, `report must be ${REPORT_SIZE} bytes`);
        if (r.qe_report_info !== undefined && r.qe_report_info.length !== QE_REPORT_INFO_SIZE) throw new AesmFailure(AesmError.PARAMETER_ERROR, `qe_report_info must be ${QE_REPORT_INFO_SIZE} bytes`);
        if (r.buf_size < this.size()) throw new AesmFailure(AesmError.PARAMETER_ERROR, 'quote buffer too small');
        const body = parseReportBody(Buffer.from(r.report).subarray(0, REPORT_BODY_SIZE));
        const { quote, collateral } = this.platform.quote({
          reportData: Buffer.from(body.reportData), mrenclave: Buffer.from(body.mrEnclave), mrsigner: Buffer.from(body.mrSigner),
          isvProdId: body.isvProdId, isvSvn: body.isvSvn, debug: (body.attributes[0] & 0x02) !== 0,
        });
        this.latestCollateral = collateral;
        const answer: AesmResponseBody = { errorCode: ok, quote };
        if (r.qe_report_info !== undefined) answer.qe_report_info = this.qeReportInfo(Buffer.from(r.qe_report_info), quote);
        return answer;
      }
      case 'selectAttKeyIDReq': {
        const list = request.selectAttKeyIDReq!.att_key_id_list;
        // With a list, Intel picks the first supported entry; we support exactly one key.
        if (list !== undefined && list.length > 0 && !Buffer.from(list).includes(this.attKeyId.subarray(0, 158))) {
          throw new AesmFailure(AesmError.PARAMETER_ERROR, 'none of the listed attestation keys is supported');
        }
        return { errorCode: ok, selected_att_key_id: this.attKeyId };
      }
      case 'getSupportedAttKeyIDNumReq':
        return { errorCode: ok, att_key_id_num: 1 };
      case 'getSupportedAttKeyIDsReq':
        if (request.getSupportedAttKeyIDsReq!.buf_size < ATT_KEY_ID_SIZE) throw new AesmFailure(AesmError.PARAMETER_ERROR, 'att_key_ids buffer too small');
        return { errorCode: ok, att_key_ids: this.attKeyId };
    }
  }

  /** Nonce and app target info kept; a QE report whose REPORT_DATA is SHA-256(nonce || quote) as Intel's QE makes it. */
  private qeReportInfo(info: Buffer, quote: Buffer): Buffer {
    const out = Buffer.from(info);
    const body = Buffer.alloc(REPORT_BODY_SIZE);
    SIM_QE_MRENCLAVE.copy(body, 64);
    SIM_QE_MRSIGNER.copy(body, 128);
    createHash('sha256').update(info.subarray(0, 16)).update(quote).digest().copy(body, 320);
    reportFromBody(body).copy(out, 16 + TARGET_INFO_SIZE);
    return out;
  }
}
