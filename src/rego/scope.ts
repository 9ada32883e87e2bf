/** Variable scopes of the evaluator: bindings of one rule body, comprehension or `every` body. */
import type { Rule } from './ast.js';
import type { Value } from './value.js';

/** A variable declared in a scope and not bound yet. */
export const UNBOUND = Symbol('unbound');
export type Slot = Value | typeof UNBOUND;

/** A variable scope; lookups fall back to the parent (comprehension bodies see their enclosing rule). */
export class Scope {
  readonly vars = new Map<string, Slot>();
  constructor(
    readonly parent: Scope | undefined,
    readonly pkg: string[],
    readonly imports: Map<string, string[]>,
    readonly rule?: string,
  ) {}
  /** The rule whose body this scope belongs to (for rego.metadata.*), on the rule's root scope. */
  ruleNode?: Rule;
  lookup(name: string): Slot | undefined {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walking the scope chain starts here
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const v = s.vars.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  }
  locals(): Record<string, Value> {
    const out: Record<string, Value> = {};
    const chain: Scope[] = [];
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walking the scope chain starts here
    for (let s: Scope | undefined = this; s; s = s.parent) chain.unshift(s);
    for (const s of chain) for (const [k, v] of s.vars) if (v !== UNBOUND && !k.startsWith('__')) out[k] = v;
    return out;
  }
}
