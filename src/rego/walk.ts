/** Shallow walkers over the AST, shared by the compile-time passes and the evaluator's load-time folding. */
import type { Expr, Term } from './ast.js';

/** The terms an expression holds directly (not those of a `not` expression or an `every` body). */
export function eachExprTerm(e: Expr, f: (t: Term) => void): void {
  switch (e.kind) {
    case 'term':
      return f(e.term);
    case 'assign':
    case 'unify':
      f(e.lhs);
      return f(e.rhs);
    case 'somein':
      if (e.key) f(e.key);
      f(e.value);
      return f(e.collection);
    case 'every':
      return f(e.collection);
    default:
      return;
  }
}

/**
 * Whether `pred` holds for one of t's direct sub-terms (those eachChild visits, in its order), stopping
 * at the first that does.
 */
export function someChild(t: Term, pred: (t: Term) => boolean): boolean {
  switch (t.type) {
    case 'ref':
      return pred(t.head) || t.path.some(pred);
    case 'array':
    case 'set':
      return t.items.some(pred);
    case 'object':
      return t.entries.some(([k, v]) => pred(k) || pred(v));
    case 'call':
      return t.args.some(pred);
    case 'arraycomp':
    case 'setcomp':
      return pred(t.term);
    case 'objectcomp':
      return pred(t.key) || pred(t.value);
    case 'template':
      return t.parts.some((p) => typeof p !== 'string' && pred(p));
    case 'with':
      return pred(t.term) || t.with.some((w) => pred(w.value));
    default:
      return false;
  }
}

/** The direct sub-terms of t: comprehension heads, not their bodies. */
export function eachChild(t: Term, f: (t: Term) => void): void {
  someChild(t, (child) => {
    f(child);
    return false;
  });
}
