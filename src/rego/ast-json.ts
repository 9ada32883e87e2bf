/**
 * A parsed module as OPA marshals its AST to JSON (what `rego.parse_module` returns): terms as
 * `{"type", "value"}`, refs as arrays of terms headed by a var, expressions as `{"index", "terms"}` with
 * calls and operators as `[ref(operator), operands...]`, rules as `{"head", "body"}`. Locations are left
 * out, as OPA leaves them out of this builtin's result.
 */
import type { Expr, Module, Rule, Term } from './ast.js';
import { toJson, typeName, type Json } from './value.js';

const term = (type: string, value: Json): Json => ({ type, value });
const varTerm = (name: string) => term('var', name);
const opRef = (...names: string[]) => term('ref', [varTerm(names[0]), ...names.slice(1).map((n) => term('string', n))]);

export function termJson(t: Term): Json {
  switch (t.type) {
    case 'scalar': {
      const kind = typeName(t.value);
      return term(kind, toJson(t.value));
    }
    case 'var':
      return varTerm(t.name);
    case 'ref':
      return term('ref', [termJson(t.head), ...t.path.map(termJson)]);
    case 'array':
      return term('array', t.items.map(termJson));
    case 'set':
      return term('set', t.items.map(termJson));
    case 'object':
      return term('object', t.entries.map(([k, v]) => [termJson(k), termJson(v)]));
    case 'call':
      return term('call', [opRef(...t.fn), ...t.args.map(termJson)]);
    case 'arraycomp':
      return term('arraycomprehension', { term: termJson(t.term), body: bodyJson(t.body) });
    case 'setcomp':
      return term('setcomprehension', { term: termJson(t.term), body: bodyJson(t.body) });
    case 'objectcomp':
      return term('objectcomprehension', { key: termJson(t.key), value: termJson(t.value), body: bodyJson(t.body) });
    case 'template':
      return term('templatestring', t.parts.map((p) => (typeof p === 'string' ? term('string', p) : termJson(p))));
    case 'with':
      return termJson(t.term);
  }
}

function exprJson(e: Expr, index: number): Json {
  const out: { [key: string]: Json } = { index };
  switch (e.kind) {
    case 'term':
      out.terms = e.term.type === 'call' ? [opRef(...e.term.fn), ...e.term.args.map(termJson)] : termJson(e.term);
      break;
    case 'assign':
      out.terms = [opRef('assign'), termJson(e.lhs), termJson(e.rhs)];
      break;
    case 'unify':
      out.terms = [opRef('eq'), termJson(e.lhs), termJson(e.rhs)];
      break;
    case 'not':
      out.negated = true;
      Object.assign(out, { terms: (exprJson(e.expr, index) as { terms: Json }).terms });
      break;
    case 'some':
      out.terms = { type: 'some', symbols: e.vars.map(varTerm) } as unknown as Json;
      break;
    case 'somein':
      out.terms = { type: 'some', symbols: [term('call', [opRef('internal', 'member_' + (e.key ? '3' : '2')), ...(e.key ? [termJson(e.key)] : []), termJson(e.value), termJson(e.collection)])] } as unknown as Json;
      break;
    case 'every':
      out.terms = { type: 'every', key: e.key ? varTerm(e.key) : null, value: varTerm(e.value), domain: termJson(e.collection), body: bodyJson(e.body) } as unknown as Json;
      break;
  }
  if (e.with.length > 0) out.with = e.with.map((w) => ({ target: termJson(w.target), value: termJson(w.value) }));
  return out;
}

const bodyJson = (body: Expr[]): Json => body.map((e, i) => exprJson(e, i));

function ruleJson(r: Rule): Json {
  const ref = r.head.ref.map((t, i) => (i === 0 && t.type === 'scalar' && typeof t.value === 'string' ? varTerm(t.value) : termJson(t)));
  const head: { [key: string]: Json } = { ref };
  const first = r.head.ref[0];
  if (first?.type === 'scalar' && typeof first.value === 'string') head.name = first.value;
  if (r.head.args) head.args = r.head.args.map(termJson);
  if (r.head.key) head.key = termJson(r.head.key);
  if (r.head.value) head.value = termJson(r.head.value);
  if (r.head.assign) head.assign = true;
  const out: { [key: string]: Json } = { head, body: r.body.length ? bodyJson(r.body) : [{ index: 0, terms: term('boolean', true) }] };
  if (r.isDefault) out.default = true;
  if (r.elses.length) out.else = r.elses.map((e) => ({ head: { ...head, ...(e.value ? { value: termJson(e.value) } : {}) }, body: bodyJson(e.body) }));
  return out;
}

export function moduleJson(m: Module): Json {
  const out: { [key: string]: Json } = {
    package: { path: [varTerm('data'), ...m.pkg.map((p) => term('string', p))] },
  };
  if (m.imports.length) out.imports = m.imports.map((imp) => ({ path: term('ref', [varTerm(imp.path[0]), ...imp.path.slice(1).map((p) => term('string', p))]), ...(imp.alias ? { alias: imp.alias } : {}) }));
  if (m.rules.length) out.rules = m.rules.map(ruleJson);
  if (m.packageAnnotations) out.annotations = [m.packageAnnotations];
  return out;
}
