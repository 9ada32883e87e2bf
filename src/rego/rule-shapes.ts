/** What evaluating a rule needs from its syntax, worked out once per rule: branches, parameters, arity. */
import type { Expr, Loc, Rule, Term } from './ast.js';
import type { RuleSet } from './compile.js';

/** A complete rule and its else chain as branches with their value terms (`true` when absent), built once per rule. */
export interface Branch {
  value: Term;
  body: Expr[];
  loc: Loc;
}
const branchesOf = new WeakMap<Rule, Branch[]>();

export function completeBranches(rule: Rule): Branch[] {
  let branches = branchesOf.get(rule);
  if (!branches) {
    const valueOr = (value: Term | undefined, loc: Loc): Term => value ?? { type: 'scalar', value: true, loc };
    branches = [{ value: valueOr(rule.head.value, rule.loc), body: rule.body, loc: rule.loc }, ...rule.elses.map((e) => ({ value: valueOr(e.value, e.loc), body: e.body, loc: e.loc }))];
    branchesOf.set(rule, branches);
  }
  return branches;
}

/** A function's arity, from its first rule (the check stage made them agree). */
export function functionArity(set: RuleSet): number {
  return set.rules[0]?.head.args?.length ?? set.defaultRule?.head.args?.length ?? 0;
}

export interface FunctionShape {
  params: Term[];
  /** The rule's value and body, then its else branches. */
  branches: Branch[];
  /** Every parameter is a variable, no two alike (so binding cannot fail). */
  plainVars: boolean;
  /** With plainVars, each parameter's name ('' for `_`, which binds nothing). */
  names: string[];
  computed: boolean;
}

/** What invoking a function rule needs, worked out once per rule rather than on every call. */
const shapes = new WeakMap<Rule, FunctionShape>();

export function functionShape(rule: Rule): FunctionShape {
  let shape = shapes.get(rule);
  if (shape) return shape;
  const params = rule.head.args as Term[];
  const names = params.map((p) => plainVar(p) ?? '');
  const bound = names.filter((n) => n !== '');
  shape = {
    params,
    branches: completeBranches(rule),
    plainVars: params.every((p) => p.type === 'var') && new Set(bound).size === bound.length,
    names,
    computed: params.some(isComputedParam),
  };
  shapes.set(rule, shape);
  return shape;
}

/** A function parameter that is computed rather than matched: a template, call or comprehension. */
export function isComputedParam(t: Term): boolean {
  return t.type === 'template' || t.type === 'call' || t.type === 'arraycomp' || t.type === 'setcomp' || t.type === 'objectcomp';
}

/** A variable term's name ('' for `_`, which binds nothing), or undefined for any other term. */
export function plainVar(t: Term): string | undefined {
  if (t.type !== 'var') return undefined;
  return t.name === '_' ? '' : t.name;
}
