/**
 * The compiler: groups the rules of all modules into a tree by their full path under `data`, so the
 * evaluator resolves `data.a.b.c` by walking it. Each node with rules holds one RuleSet of one kind.
 */
import type { Import, Module, Rule, Term } from './ast.js';
import { RegoError } from './errors.js';
import type { BuiltinSpec } from './builtins/registry.js';
import type { BodyOrders } from './safety.js';
import { keyOf, type Json } from './value.js';

export type RuleKind = 'complete' | 'partialset' | 'partialobject' | 'function';

export interface RuleSet {
  path: string[];
  /** `data.` and the path, dotted: the rule's name in traces and metadata, made once rather than per call. */
  name: string;
  kind: RuleKind;
  rules: Rule[];
  defaultRule?: Rule;
  /** For partial objects from ref heads: the key terms after the constant path. */
  /** True when every rule's value is the same constant (no else), so the first success decides (OPA's early exit). */
  constantValue: boolean;
}

export interface RuleNode {
  children: Map<string, RuleNode>;
  /** A package (possibly empty) lives here: its document is at least {}. */
  isPackage?: boolean;
  ruleSet?: RuleSet;
}

/** A resolved call term: the dotted name, what it calls, the operands without an output argument. */
export interface CallTarget {
  /** The policy it was resolved in (a parsed module may be compiled with different neighbours). */
  policy: CompiledPolicy;
  name: string;
  userFn?: RuleSet;
  spec?: BuiltinSpec;
  inputs?: Term[];
  print: boolean;
  /** Whether the evaluator's continuation-free path may call it (not print, walk or rego.metadata.*). */
  direct: boolean;
  /** Whether its results are memoised within a query (pure builtins that cost more than a lookup). */
  memo: boolean;
  /** For the builtins `equal`/`eq` (true) and `neq` (false): what equals() must give for the call to be true. */
  equality?: boolean;
  arity?: number;
}

export interface CompiledPolicy {
  root: RuleNode;
  /** Resolved targets of call terms (user function or builtin), filled by the evaluator on first evaluation, kept across queries. */
  callTargets: WeakMap<Term, CallTarget>;
  /**
   * Per ref term whose head names a rule of its package, filled by the evaluator: the rule set (false: a
   * package subtree without rules of its own; null: not a package name). Per policy, since the same
   * parsed module may be compiled with different neighbours.
   */
  packageRefs: WeakMap<Term, RuleSet | false | null>;
  /** Each body's evaluation order where it differs from the source (variables bound before read), filled by the check stage (safety.ts). */
  bodyOrder: BodyOrders;
  /** Per module: the package path and the import aliases. */
  modules: Map<string, { pkg: string[]; imports: Import[]; ruleNames: Set<string>; packageAnnotations?: { [key: string]: Json } }>;
}

function constantHeadPath(rule: Rule): { constant: string[]; rest: Term[] } {
  const constant: string[] = [];
  let i = 0;
  for (; i < rule.head.ref.length; i++) {
    const t = rule.head.ref[i];
    if (t.type === 'scalar' && typeof t.value === 'string') constant.push(t.value);
    else break;
  }
  return { constant, rest: rule.head.ref.slice(i) };
}

function kindOf(rule: Rule, rest: Term[]): RuleKind {
  if (rule.head.args) return 'function';
  if (rest.length > 0) return 'partialobject';
  if (rule.head.key) return 'partialset';
  return 'complete';
}

function isConstantTerm(t: Term | undefined): boolean {
  if (!t) return true;
  return t.type === 'scalar';
}

export function compileModules(modules: Module[]): CompiledPolicy {
  const root: RuleNode = { children: new Map() };
  const info: CompiledPolicy['modules'] = new Map();
  for (const mod of modules) {
    const ruleNames = new Set<string>();
    let pkgNode = root;
    for (const seg of mod.pkg) {
      let child = pkgNode.children.get(seg);
      if (!child) {
        child = { children: new Map() };
        pkgNode.children.set(seg, child);
      }
      pkgNode = child;
    }
    pkgNode.isPackage = true;
    for (const rule of mod.rules) {
      const { constant, rest } = constantHeadPath(rule);
      ruleNames.add(constant[0]);
      const kind = kindOf(rule, rest);
      const path = [...mod.pkg, ...constant];
      let node = root;
      for (const seg of path) {
        let child = node.children.get(seg);
        if (!child) {
          child = { children: new Map() };
          node.children.set(seg, child);
        }
        node = child;
      }
      if (!node.ruleSet) node.ruleSet = { path, name: 'data.' + path.join('.'), kind, rules: [], constantValue: true };
      const set = node.ruleSet;
      if (set.kind !== kind) {
        throw new RegoError('rego_type_error', `conflicting rules data.${path.join('.')} found`, rule.loc);
      }
      if (rule.isDefault) {
        if (set.defaultRule) throw new RegoError('rego_type_error', `multiple default rules data.${path.join('.')} found`, rule.loc);
        set.defaultRule = rule;
        continue;
      }
      if (kind === 'partialobject') rule.head.keys = rest;
      set.rules.push(rule);
      const values = set.rules.map((r) => r.head.value);
      set.constantValue =
        (kind === 'complete' || kind === 'function') &&
        set.rules.every((r) => r.elses.length === 0 && isConstantTerm(r.head.value)) &&
        values.every((v) => scalarKey(v) === scalarKey(values[0]));
    }
    const existing = info.get(mod.file);
    info.set(mod.file, { pkg: mod.pkg, imports: mod.imports, ruleNames: new Set([...(existing?.ruleNames ?? []), ...ruleNames]), packageAnnotations: mod.packageAnnotations });
  }
  return { root, modules: info, callTargets: new WeakMap(), packageRefs: new WeakMap(), bodyOrder: new WeakMap() };
}

export function findNode(root: RuleNode, path: readonly string[]): RuleNode | undefined {
  let node: RuleNode | undefined = root;
  for (const seg of path) {
    node = node.children.get(seg);
    if (!node) return undefined;
  }
  return node;
}

/** Identity of a rule head's constant scalar (keyOf handles big numbers, which JSON.stringify cannot). */
function scalarKey(t: Term | undefined): string {
  return t?.type === 'scalar' ? keyOf(t.value) : 'non-scalar';
}

/** The user function a call names, resolved as the evaluator resolves it (data refs, imports, package). */
export function userFunction(policy: CompiledPolicy, pkg: readonly string[], imports: Map<string, string[]>, fn: readonly string[]): RuleSet | undefined {
  let path: string[] | undefined;
  if (fn[0] === 'data') path = fn.slice(1);
  else if (imports.has(fn[0])) {
    const imp = imports.get(fn[0]) as string[];
    if (imp[0] === 'data') path = [...imp.slice(1), ...fn.slice(1)];
  } else path = [...pkg, ...fn];
  const set = path && findNode(policy.root, path)?.ruleSet;
  return set?.kind === 'function' ? set : undefined;
}
