/**
 * Strict hex text of bytes: whitespace between digits is allowed (line-wrapped dumps), anything else,
 * or an odd digit count, is refused. Node's own decoder stops at the first bad character and drops a
 * trailing odd digit, which would let trailing garbage after a report pass unnoticed.
 */
const HEX_TEXT = /^[0-9a-fA-F\s]*$/;

/** True when the text is hex digits and whitespace only (a candidate for strictHex). */
export function looksHex(text: string): boolean {
  return text.trim().length > 0 && HEX_TEXT.test(text);
}

/** Decodes hex text, or returns undefined when it is not exactly an even number of hex digits. */
export function strictHex(text: string): Buffer | undefined {
  if (!HEX_TEXT.test(text)) return undefined;
  const digits = text.replace(/\s+/g, '');
  if (digits.length === 0 || digits.length % 2 !== 0) return undefined;
  return Buffer.from(digits, 'hex');
}
