/**
 * The AESM wire protocol: a 4-byte little-endian length, then a protobuf `aesm.message.Request` (proto2,
 * required fields) answered by one `aesm.message.Response`, one request per connection. Messages and field
 * numbers checked against Intel's current `psw/ae/aesm_service/source/core/ipc/messages.proto`
 * (github.com/intel/confidential-computing.sgx, formerly intel/linux-sgx; the same text in its forks), the
 * quote-ex subset: InitQuoteEx 15, GetQuoteSizeEx 16, GetQuoteEx 17, SelectAttKeyID 19 (its timeout is
 * field 2, not 9), GetSupportedAttKeyIDNum 21, GetSupportedAttKeyIDs 22 (Response 20, UnsupportedRequestResponse, we do not send).
 * Older (2019) trees carried `certification_key_type` and `refresh_att_key` in InitQuoteExRequest (fields
 * 2, 3, with b_pub_key_id 4 and buf_size 5) and had no 19-22; the current layout dropped them and renumbered
 * b_pub_key_id to 3 and buf_size to 4, which is what the quote-ex client library built from that tree sends.
 */
import protobuf from 'protobufjs';

export const AESM_PROTO = `
syntax = "proto2";
package aesm.message;

message Request {
  message InitQuoteExRequest {
    optional bytes  att_key_id             = 1;
    required bool   b_pub_key_id           = 3;
    optional uint64 buf_size               = 4;
    optional uint32 timeout                = 9;
  }
  message GetQuoteSizeExRequest {
    optional bytes  att_key_id             = 1;
    optional uint32 timeout                = 9;
  }
  message GetQuoteExRequest {
    required bytes  report         = 1;
    optional bytes  att_key_id     = 2;
    optional bytes  qe_report_info = 3;
    required uint32 buf_size       = 4;
    optional uint32 timeout        = 9;
  }
  message SelectAttKeyIDRequest {
    optional bytes  att_key_id_list = 1;
    optional uint32 timeout         = 2;
  }
  message GetSupportedAttKeyIDNumRequest {
    optional uint32 timeout = 9;
  }
  message GetSupportedAttKeyIDsRequest {
    required uint32 buf_size = 1;
    optional uint32 timeout  = 9;
  }
  optional InitQuoteExRequest             initQuoteExReq             = 15;
  optional GetQuoteSizeExRequest          getQuoteSizeExReq          = 16;
  optional GetQuoteExRequest              getQuoteExReq              = 17;
  optional SelectAttKeyIDRequest          selectAttKeyIDReq          = 19;
  optional GetSupportedAttKeyIDNumRequest getSupportedAttKeyIDNumReq = 21;
  optional GetSupportedAttKeyIDsRequest   getSupportedAttKeyIDsReq   = 22;
}

message Response {
  message InitQuoteExResponse {
    required uint32 errorCode       = 1 [default = 1];
    optional bytes  target_info     = 2;
    optional uint64 pub_key_id_size = 3;
    optional bytes  pub_key_id      = 4;
  }
  message GetQuoteSizeExResponse {
    required uint32 errorCode  = 1 [default = 1];
    optional uint32 quote_size = 2;
  }
  message GetQuoteExResponse {
    required uint32 errorCode      = 1 [default = 1];
    optional bytes  quote          = 2;
    optional bytes  qe_report_info = 3;
  }
  message SelectAttKeyIDResponse {
    required uint32 errorCode           = 1 [default = 1];
    optional bytes  selected_att_key_id = 2;
  }
  message GetSupportedAttKeyIDNumResponse {
    required uint32 errorCode      = 1 [default = 1];
    optional uint32 att_key_id_num = 2;
  }
  message GetSupportedAttKeyIDsResponse {
    required uint32 errorCode   = 1 [default = 1];
    optional bytes  att_key_ids = 2;
  }
  optional InitQuoteExResponse             initQuoteExRes             = 15;
  optional GetQuoteSizeExResponse          getQuoteSizeExRes          = 16;
  optional GetQuoteExResponse              getQuoteExRes              = 17;
  optional SelectAttKeyIDResponse          selectAttKeyIDRes          = 19;
  optional GetSupportedAttKeyIDNumResponse getSupportedAttKeyIDNumRes = 21;
  optional GetSupportedAttKeyIDsResponse   getSupportedAttKeyIDsRes   = 22;
}
`;

/** Intel's `aesm_error_t` (psw/ae/inc/aesm_error.h). */
export const AesmError = {
  SUCCESS: 0,
  UNEXPECTED_ERROR: 1,
  NO_DEVICE_ERROR: 2,
  PARAMETER_ERROR: 3,
  SERVICE_STOPPED: 17,
  BUSY: 18,
  BACKEND_SERVER_BUSY: 19,
  OUT_OF_MEMORY_ERROR: 21,
  MSG_ERROR: 22,
  SGX_DEVICE_NOT_AVAILABLE: 24,
  SERVICE_NOT_AVAILABLE: 27,
  OUT_OF_EPC: 29,
  SERVICE_UNAVAILABLE: 30,
} as const;

/** The request kinds we serve, as the Request field names; each answer goes in the Response field `…Res`. */
export const REQUEST_KINDS = ['initQuoteExReq', 'getQuoteSizeExReq', 'getQuoteExReq', 'selectAttKeyIDReq', 'getSupportedAttKeyIDNumReq', 'getSupportedAttKeyIDsReq'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];
export const responseField = (kind: RequestKind): string => kind.replace(/Req$/, 'Res');

export interface InitQuoteExRequest { att_key_id?: Uint8Array; b_pub_key_id: boolean; buf_size?: number; timeout?: number }
export interface GetQuoteSizeExRequest { att_key_id?: Uint8Array; timeout?: number }
export interface GetQuoteExRequest { report: Uint8Array; att_key_id?: Uint8Array; qe_report_info?: Uint8Array; buf_size: number; timeout?: number }
export interface SelectAttKeyIDRequest { att_key_id_list?: Uint8Array; timeout?: number }
export interface GetSupportedAttKeyIDsRequest { buf_size: number; timeout?: number }

export interface AesmRequest {
  initQuoteExReq?: InitQuoteExRequest;
  getQuoteSizeExReq?: GetQuoteSizeExRequest;
  getQuoteExReq?: GetQuoteExRequest;
  selectAttKeyIDReq?: SelectAttKeyIDRequest;
  getSupportedAttKeyIDNumReq?: { timeout?: number };
  getSupportedAttKeyIDsReq?: GetSupportedAttKeyIDsRequest;
}

/** One Response sub-message: always an errorCode, plus the fields of its kind. */
export type AesmResponseBody = { errorCode: number } & Record<string, Uint8Array | number | undefined>;

let root: protobuf.Root | undefined;
function types(): { request: protobuf.Type; response: protobuf.Type } {
  // resolveAll() settles proto2 field presence, so decode enforces `required`.
  if (!root) {
    root = protobuf.parse(AESM_PROTO, { keepCase: true }).root;
    root.resolveAll();
  }
  return { request: root.lookupType('aesm.message.Request'), response: root.lookupType('aesm.message.Response') };
}

/** Decodes a Request; throws on bad wire data or a missing required field (protobufjs checks proto2 `required`). */
export function decodeRequest(bytes: Uint8Array): AesmRequest {
  const { request } = types();
  return request.toObject(request.decode(bytes), { longs: Number, bytes: Buffer, defaults: false }) as AesmRequest;
}

export function encodeRequest(request: AesmRequest): Buffer {
  const { request: type } = types();
  return Buffer.from(type.encode(type.fromObject(request)).finish());
}

export function decodeResponse(bytes: Uint8Array): Record<string, AesmResponseBody | undefined> {
  const { response } = types();
  return response.toObject(response.decode(bytes), { longs: Number, bytes: Buffer, defaults: false }) as Record<string, AesmResponseBody | undefined>;
}

export function encodeResponse(kind: RequestKind, body: AesmResponseBody): Buffer {
  const { response } = types();
  return Buffer.from(response.encode(response.fromObject({ [responseField(kind)]: body })).finish());
}

/** The one request kind a Request carries, or undefined when it has none or several. */
export function requestKind(request: AesmRequest): RequestKind | undefined {
  const present = REQUEST_KINDS.filter((k) => request[k] !== undefined && request[k] !== null);
  return present.length === 1 ? present[0] : undefined;
}

/** A frame: 4-byte little-endian length, then the message. */
export function frame(message: Uint8Array): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32LE(message.length, 0);
  return Buffer.concat([header, message]);
}
