/**
 * Byte layouts the AESM quote-ex calls carry (Intel's sgx_report.h, sgx_quote_3.h, sgx_ql_lib_common.h):
 * `sgx_att_key_id_t` (256 bytes: an `sgx_ql_att_key_id_t` then SPID, key type, reserved),
 * `sgx_target_info_t` (512), `sgx_report_t` (432: body, key ID, MAC) and
 * `sgx_ql_qe_report_info_t` (960: nonce, app enclave target info, QE report).
 */
export const ATT_KEY_ID_SIZE = 256;
export const TARGET_INFO_SIZE = 512;
export const REPORT_SIZE = 432;
export const REPORT_BODY_SIZE = 384;
export const QE_REPORT_INFO_SIZE = 16 + TARGET_INFO_SIZE + REPORT_SIZE;
/** `sgx_ql_attestation_algorithm_id_t`: SGX_QL_ALG_ECDSA_P256. */
export const ALG_ECDSA_P256 = 2;
/** Offsets inside `sgx_ql_att_key_id_t`. */
const ATT_KEY = { id: 0, version: 2, mrsignerLength: 4, mrsigner: 6, prodId: 54, algorithmId: 154 } as const;

/** The ECDSA-P256 attestation key ID of a quoting enclave signed by `qeMrsigner` (32 bytes). */
export function ecdsaAttKeyId(qeMrsigner: Buffer, prodId = 1): Buffer {
  const id = Buffer.alloc(ATT_KEY_ID_SIZE);
  id.writeUInt16LE(32, ATT_KEY.mrsignerLength);
  qeMrsigner.copy(id, ATT_KEY.mrsigner, 0, 32);
  id.writeUInt32LE(prodId, ATT_KEY.prodId);
  id.writeUInt32LE(ALG_ECDSA_P256, ATT_KEY.algorithmId);
  return id;
}

export function attKeyAlgorithm(attKeyId: Buffer): number | undefined {
  return attKeyId.length >= ATT_KEY.algorithmId + 4 ? attKeyId.readUInt32LE(ATT_KEY.algorithmId) : undefined;
}

/** A target info naming the quoting enclave (MRENCLAVE, ATTRIBUTES), so the app can target its report at it. */
export function targetInfo(qeMrenclave: Buffer, attributes: Buffer): Buffer {
  const ti = Buffer.alloc(TARGET_INFO_SIZE);
  qeMrenclave.copy(ti, 0, 0, 32);
  attributes.copy(ti, 32, 0, 16);
  return ti;
}

/** An `sgx_report_t` from a report body (key ID and MAC left zero: only a real CPU can MAC a report). */
export function reportFromBody(body: Buffer): Buffer {
  const report = Buffer.alloc(REPORT_SIZE);
  body.copy(report, 0, 0, REPORT_BODY_SIZE);
  return report;
}
