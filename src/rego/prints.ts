/** print() output: operands as they were logged during a query, and their lines, formatted on demand. */
import { formatForPrint } from './format.js';
import type { Value } from './value.js';

/** A print operand with other than one value (none: `<undefined>`; several: one line for each). */
export class PrintValues {
  constructor(readonly values: readonly Value[]) {}
}
export const NO_VALUES = new PrintValues([]);
/** A print operand as logged: its one value, or PrintValues. */
export type PrintArg = Value | PrintValues;

/** One entry of a query's print log: a line, or one print call's operands. */
export type PrintEntry = string | PrintArg[];

/** The lines of a print log: one per print call and combination of operand values; `<undefined>` for none. */
export function printLines(log: readonly PrintEntry[]): string[] {
  const lines: string[] = [];
  for (const entry of log) {
    if (typeof entry === 'string') {
      lines.push(entry);
      continue;
    }
    const perArg = entry.map((arg) => (!(arg instanceof PrintValues) ? [formatForPrint(arg)] : arg.values.length ? arg.values.map((v) => formatForPrint(v)) : ['<undefined>']));
    const go = (i: number, acc: string[]): void => {
      if (i === perArg.length) {
        lines.push(acc.join(' '));
        return;
      }
      for (const v of perArg[i]) go(i + 1, [...acc, v]);
    };
    go(0, []);
  }
  return lines;
}
