/** Constant folding: literal collections with only scalar leaves become values once per policy. */
import type { Expr, Module, Term } from './ast.js';
import { eachChild, eachExprTerm } from './walk.js';
import { RObject, RSet, type Value } from './value.js';

/** Values of literal collection terms with only scalar leaves; null marks a term that is not constant. */
const constants = new WeakMap<Term, Value | null>();

export function constantValue(t: Term): Value | undefined {
  const known = constants.get(t);
  if (known !== undefined) return known ?? undefined;
  let v: Value | undefined;
  if (t.type === 'scalar') v = t.value;
  else if (t.type === 'array' || t.type === 'set') {
    const items: Value[] = [];
    for (const item of t.items) {
      const x = constantValue(item);
      if (x === undefined) break;
      items.push(x);
    }
    if (items.length === t.items.length) v = t.type === 'array' ? items : new RSet(items);
  } else if (t.type === 'object') {
    const entries: [Value, Value][] = [];
    for (const [key, value] of t.entries) {
      const kv = constantValue(key);
      const vv = kv === undefined ? undefined : constantValue(value);
      if (kv === undefined || vv === undefined) break;
      entries.push([kv, vv]);
    }
    // Duplicate keys with different values are a conflict the evaluator reports: not folded.
    if (entries.length === t.entries.length) {
      const obj = new RObject(entries);
      if (obj.size === entries.length) v = obj;
    }
  }
  constants.set(t, v ?? null);
  return v;
}

/**
 * Builds the values of the constant literal collections of these modules now (a Kata policy's large
 * `policy_data` among them), so the policy's first decision does not pay for it: called once per
 * policy, when it is loaded. The values are shared by every evaluation, as evalTerm would make them.
 */
export function foldConstants(modules: Iterable<Module>): void {
  const term = (t: Term | undefined): void => {
    if (!t) return;
    // A constant collection is folded whole; its parts need no values of their own.
    if ((t.type === 'array' || t.type === 'set' || t.type === 'object') && constantValue(t) !== undefined) return;
    eachChild(t, term);
    if (t.type === 'arraycomp' || t.type === 'setcomp' || t.type === 'objectcomp') body(t.body);
  };
  const body = (exprs: readonly Expr[]): void => {
    for (const e of exprs) expr(e);
  };
  const expr = (e: Expr): void => {
    eachExprTerm(e, term);
    if (e.kind === 'not') expr(e.expr);
    else if (e.kind === 'every') body(e.body);
  };
  for (const mod of modules) {
    for (const rule of mod.rules) {
      term(rule.head.value);
      term(rule.head.key);
      body(rule.body);
      for (const e of rule.elses) {
        term(e.value);
        body(e.body);
      }
    }
  }
}
