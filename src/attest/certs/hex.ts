/**
 * Strict hex text of bytes: whitespace between digits is allowed (line-wrapped dumps), anything else,
 * or an odd digit count, is refused. Node's own decoder stops at the first bad character and drops a
 * trailing odd digit, which would let trailing garbage after a report pass unnoticed.
 */
const HEX_TEXT = /^[0-9a-fA-F\s]*$/;
/** One `0x` before the digits, as many tools print a quote; only at the start, never between digits. */
const PREFIX = /^\s*0[xX]/;
const withoutPrefix = (text: string) => text.replace(PREFIX, '');

/** True when the text is hex digits and whitespace only, after an optional leading `0x` (a candidate for strictHex). */
export function looksHex(text: string): boolean {
  const body = withoutPrefix(text);
  return body.trim().length > 0 && HEX_TEXT.test(body);
}

/** Decodes hex text (an optional leading `0x`), or returns undefined when it is not exactly an even number of hex digits. */
export function strictHex(text: string): Buffer | undefined {
  const body = withoutPrefix(text);
  if (!HEX_TEXT.test(body)) return undefined;
  const digits = body.replace(/\s+/g, '');
  if (digits.length === 0 || digits.length % 2 !== 0) return undefined;
  return Buffer.from(digits, 'hex');
}
