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

/** The direct sub-terms of t: comprehension heads, not their bodies. */
export function eachChild(t: Term, f: (t: Term) => void): void {
  switch (t.type) {
    case 'ref':
      f(t.head);
      return t.path.forEach(f);
    case 'array':
    case 'set':
      return t.items.forEach(f);
    case 'object':
      return t.entries.forEach(([k, v]) => (f(k), f(v)));
    case 'call':
      return t.args.forEach(f);
    case 'arraycomp':
    case 'setcomp':
      return f(t.term);
    case 'objectcomp':
      f(t.key);
      return f(t.value);
    case 'template':
      return t.parts.forEach((p) => (typeof p === 'string' ? undefined : f(p)));
    case 'with':
      f(t.term);
      return t.with.forEach((w) => f(w.value));
    default:
      return;
  }
}
