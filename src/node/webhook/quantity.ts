/** Kubernetes resource quantities (`10`, `64Mi`, `1G`, `500k`) as numbers, for EPC requests. */
const SUFFIX: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** The value of a quantity, or undefined when it is not one (or is not a whole number, which extended resources must be). */
export function parseQuantity(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * SUFFIX[m[2] ?? ''];
  return Number.isSafeInteger(n) ? n : undefined;
}
