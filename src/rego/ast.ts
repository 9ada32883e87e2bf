/** The Rego syntax tree produced by the parser and walked by the evaluator. */
import type { CallTarget } from './compile.js';
import type { InlineFn, SingleFn } from './eval.js';
import type { Json, Value } from './value.js';

export interface Loc {
  file: string;
  line: number;
  column: number;
}

export type Term = (
  | { type: 'scalar'; value: Value; loc: Loc }
  | { type: 'var'; name: string; loc: Loc }
  | { type: 'ref'; head: Term; path: Term[]; loc: Loc }
  | { type: 'array'; items: Term[]; loc: Loc }
  | { type: 'set'; items: Term[]; loc: Loc }
  | { type: 'object'; entries: [Term, Term][]; loc: Loc }
  | { type: 'call'; fn: string[]; args: Term[]; loc: Loc; /** Set by the evaluator: what it calls, in the policy last evaluated. */ resolved?: CallTarget }
  | { type: 'arraycomp'; term: Term; body: Expr[]; loc: Loc }
  | { type: 'setcomp'; term: Term; body: Expr[]; loc: Loc }
  | { type: 'objectcomp'; key: Term; value: Term; body: Expr[]; loc: Loc }
  | { type: 'template'; parts: (string | Term)[]; loc: Loc }
  /** A template-string expression with modifiers: `$"{a with input as x}"`. */
  | { type: 'with'; term: Term; with: WithModifier[]; loc: Loc }
) & {
  /** Set by the evaluator on the term's first single-value evaluation: the term compiled for it. */
  single?: SingleFn;
};

export interface WithModifier {
  target: Term;
  value: Term;
}

export type ExprKind =
  | { kind: 'term'; term: Term }
  | { kind: 'assign'; lhs: Term; rhs: Term }
  | { kind: 'unify'; lhs: Term; rhs: Term }
  | { kind: 'not'; expr: Expr }
  | { kind: 'some'; vars: string[] }
  | { kind: 'somein'; key?: Term; value: Term; collection: Term }
  | { kind: 'every'; key?: string; value: string; collection: Term; body: Expr[] };

export type Expr = ExprKind & {
  loc: Loc;
  text: string;
  with: WithModifier[];
  /** Set by the evaluator on the expression's first evaluation in a body loop: the expression compiled for it. */
  inline?: InlineFn;
};

export interface RuleHead {
  /** Full ref of the rule below the package: constant names then possibly variable keys. */
  ref: Term[];
  args?: Term[];
  /** Ref-head keys after the constant path (`p[x].r[y] := v`): the rule builds a nested object. */
  keys?: Term[];
  /** Partial set element (`contains` or v0 `p[x]` with no value). */
  key?: Term;
  value?: Term;
  assign: boolean;
}

export interface Rule {
  head: RuleHead;
  body: Expr[];
  isDefault: boolean;
  elses: { value?: Term; body: Expr[]; loc: Loc }[];
  loc: Loc;
  module: string;
  /** The package path, e.g. ['agent_policy']. */
  pkg: string[];
  /** METADATA annotations above the rule (with their scope: rule or document). */
  annotations?: { [key: string]: Json };
}

export interface Import {
  path: string[];
  alias?: string;
  loc: Loc;
}

export interface Module {
  file: string;
  pkg: string[];
  imports: Import[];
  rules: Rule[];
  /** METADATA annotations above the package (scope package or subpackages). */
  packageAnnotations?: { [key: string]: Json };
}
