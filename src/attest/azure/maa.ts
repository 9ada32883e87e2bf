/**
 * Microsoft Azure Attestation's "Attest SevSnpVm" request (`POST /attest/SevSnpVm?api-version=...`), as
 * the confidential sidecar sends it:
 *
 *   {"report": base64url(JSON {"SnpReport": base64url(report bytes), "VcekCertChain": base64url(PEM chain),
 *                              "Endorsements"?: ...}),
 *    "runtimeData": {"data": base64url, "dataType": "JSON"|"Binary"},
 *    "initTimeData"?: {"data": base64url, "dataType": "JSON"|"Binary"},
 *    "nonce"?: string|number}
 *
 * SHA-256 of the runtime data bytes is the first 32 bytes of REPORT_DATA; SHA-256 of the init-time data
 * is HOST_DATA. Errors are CloudError bodies (cloud-error.ts).
 */
import { AzureError } from './cloud-error.js';

export interface MaaData {
  bytes: Buffer;
  /** Parsed when dataType is JSON. */
  json?: unknown;
  dataType: 'JSON' | 'Binary';
}

export interface MaaSnpRequest {
  /** Our evidence form for the verifier: {report: base64, certs: [PEM...]} */
  evidence: { report: string; certs?: string[] };
  runtimeData: MaaData;
  initTimeData?: MaaData;
  nonce?: string;
}

const B64URL = /^[A-Za-z0-9_-]*={0,2}$/;

function bad(message: string): AzureError {
  return new AzureError(400, 'InvalidParameter', message);
}

function b64url(value: unknown, path: string): Buffer {
  if (typeof value !== 'string' || !B64URL.test(value)) throw bad(`${path}: expected base64url`);
  return Buffer.from(value, 'base64url');
}

function data(value: unknown, path: string): MaaData {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(`${path}: expected {"data", "dataType"}`);
  const v = value as Record<string, unknown>;
  const bytes = b64url(v.data, `${path}.data`);
  const dataType = v.dataType ?? 'Binary';
  if (dataType === 'Binary') return { bytes, dataType };
  if (dataType !== 'JSON') throw bad(`${path}.dataType: expected "JSON" or "Binary"`);
  try {
    return { bytes, dataType, json: JSON.parse(bytes.toString('utf8')) as unknown };
  } catch {
    throw bad(`${path}.data: dataType is JSON but the data is not JSON`);
  }
}

/** The PEM certificates of a concatenated chain. */
function pemCerts(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

export function parseMaaSnpRequest(body: unknown): MaaSnpRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('the request body must be a JSON object');
  const b = body as Record<string, unknown>;
  let report: Record<string, unknown>;
  try {
    report = JSON.parse(b64url(b.report, 'report').toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof AzureError) throw error;
    throw bad('report: expected base64url of the JSON {"SnpReport", "VcekCertChain"}');
  }
  if (typeof report !== 'object' || report === null) throw bad('report: expected base64url of the JSON {"SnpReport", "VcekCertChain"}');
  const raw = b64url(report.SnpReport, 'report.SnpReport');
  const chain = report.VcekCertChain === undefined ? undefined : pemCerts(b64url(report.VcekCertChain, 'report.VcekCertChain').toString('utf8'));
  if (chain !== undefined && chain.length === 0) throw bad('report.VcekCertChain: no PEM certificates');
  const out: MaaSnpRequest = { evidence: { report: raw.toString('base64'), certs: chain }, runtimeData: data(b.runtimeData, 'runtimeData') };
  if (b.initTimeData !== undefined) out.initTimeData = data(b.initTimeData, 'initTimeData');
  if (b.nonce !== undefined) {
    if (typeof b.nonce !== 'string' && typeof b.nonce !== 'number') throw bad('nonce: expected a string or number');
    out.nonce = String(b.nonce);
  }
  return out;
}

/** What MAA puts in x-ms-runtime / x-ms-inittime: the JSON, or an empty object for binary data. */
export function maaDataClaim(d: MaaData): unknown {
  return d.dataType === 'JSON' ? d.json : {};
}
