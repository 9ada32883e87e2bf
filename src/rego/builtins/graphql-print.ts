/**
 * Prints a gqlparser-shaped AST (as graphql.parse_query / graphql.parse_schema return it, possibly
 * written by hand in a policy) back to GraphQL text, so graphql.is_valid and friends can take ASTs
 * as OPA does. Missing fields read as Go's zero values, as they were pruned away.
 */
import type { Json } from '../value.js';

type Obj = { readonly [key: string]: Json };

function obj(v: Json | undefined): Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
}
function list(v: Json | undefined): Obj[] {
  return Array.isArray(v) ? v.map(obj) : [];
}
function str(v: Json | undefined): string {
  return typeof v === 'string' ? v : '';
}
function strings(v: Json | undefined): string[] {
  return Array.isArray(v) ? v.map(str) : [];
}

function printValue(v: Obj): string {
  const raw = str(v.Raw);
  switch (v.Kind) {
    case 0: return `$${raw}`;
    case 3: case 4: return JSON.stringify(raw);
    case 8: return `[${list(v.Children).map((c) => printValue(obj(c.Value))).join(', ')}]`;
    case 9: return `{${list(v.Children).map((c) => `${str(c.Name)}: ${printValue(obj(c.Value))}`).join(', ')}}`;
    default: return raw;
  }
}

function printType(t: Obj): string {
  const inner = t.Elem !== undefined && t.Elem !== null ? `[${printType(obj(t.Elem))}]` : str(t.NamedType);
  return t.NonNull === true ? `${inner}!` : inner;
}

function printArgs(args: Json | undefined): string {
  const a = list(args);
  return a.length === 0 ? '' : `(${a.map((x) => `${str(x.Name)}: ${printValue(obj(x.Value))}`).join(', ')})`;
}

function printDirectives(ds: Json | undefined): string {
  return list(ds).map((d) => ` @${str(d.Name)}${printArgs(d.Arguments)}`).join('');
}

function printVariables(vs: Json | undefined): string {
  const v = list(vs);
  if (v.length === 0) return '';
  const one = (x: Obj): string =>
    `$${str(x.Variable)}: ${printType(obj(x.Type))}${x.DefaultValue ? ` = ${printValue(obj(x.DefaultValue))}` : ''}${printDirectives(x.Directives)}`;
  return `(${v.map(one).join(', ')})`;
}

function printSelections(set: Json | undefined): string {
  const s = list(set);
  if (s.length === 0) return '';
  const one = (x: Obj): string => {
    if (x.Alias === undefined && x.Name !== undefined && x.SelectionSet === undefined) return `...${str(x.Name)}${printDirectives(x.Directives)}`;
    if (x.Name === undefined) {
      const on = str(x.TypeCondition);
      return `...${on ? ` on ${on}` : ''}${printDirectives(x.Directives)} ${printSelections(x.SelectionSet)}`;
    }
    const alias = str(x.Alias);
    const name = str(x.Name);
    return `${alias && alias !== name ? `${alias}: ` : ''}${name}${printArgs(x.Arguments)}${printDirectives(x.Directives)} ${printSelections(x.SelectionSet)}`;
  };
  return `{ ${s.map(one).join(' ')} }`;
}

export function printQueryAst(doc: Json): string {
  const d = obj(doc);
  const ops = list(d.Operations).map((o) =>
    `${str(o.Operation) || 'query'} ${str(o.Name)}${printVariables(o.VariableDefinitions)}${printDirectives(o.Directives)} ${printSelections(o.SelectionSet)}`);
  const frags = list(d.Fragments).map((f) =>
    `fragment ${str(f.Name)}${printVariables(f.VariableDefinition)} on ${str(f.TypeCondition)}${printDirectives(f.Directives)} ${printSelections(f.SelectionSet)}`);
  return [...ops, ...frags].join('\n');
}

function printDescription(d: Json | undefined): string {
  const s = str(d);
  return s ? `${JSON.stringify(s)} ` : '';
}

function printInputValues(vs: Json | undefined): string {
  return list(vs)
    .map((a) => `${printDescription(a.Description)}${str(a.Name)}: ${printType(obj(a.Type))}${a.DefaultValue ? ` = ${printValue(obj(a.DefaultValue))}` : ''}${printDirectives(a.Directives)}`)
    .join(' ');
}

const KEYWORD: Record<string, string> = {
  SCALAR: 'scalar', OBJECT: 'type', INTERFACE: 'interface', UNION: 'union', ENUM: 'enum', INPUT_OBJECT: 'input',
};

function printDefinition(def: Obj, extension: boolean): string {
  const kind = str(def.Kind);
  const head = `${extension ? 'extend ' : printDescription(def.Description)}${KEYWORD[kind] ?? 'type'} ${str(def.Name)}`;
  const interfaces = strings(def.Interfaces);
  const impl = interfaces.length > 0 ? ` implements ${interfaces.join(' & ')}` : '';
  let body = '';
  if (kind === 'OBJECT' || kind === 'INTERFACE') {
    const fields = list(def.Fields).map((f) => {
      const args = list(f.Arguments).length > 0 ? `(${printInputValues(f.Arguments)})` : '';
      return `${printDescription(f.Description)}${str(f.Name)}${args}: ${printType(obj(f.Type))}${printDirectives(f.Directives)}`;
    });
    if (fields.length > 0) body = ` { ${fields.join(' ')} }`;
  } else if (kind === 'INPUT_OBJECT') {
    if (list(def.Fields).length > 0) body = ` { ${printInputValues(def.Fields)} }`;
  } else if (kind === 'ENUM') {
    const values = list(def.EnumValues).map((e) => `${printDescription(e.Description)}${str(e.Name)}${printDirectives(e.Directives)}`);
    if (values.length > 0) body = ` { ${values.join(' ')} }`;
  } else if (kind === 'UNION') {
    const types = strings(def.Types);
    if (types.length > 0) body = ` = ${types.join(' | ')}`;
  }
  return `${head}${impl}${printDirectives(def.Directives)}${body}`;
}

function printSchemaDefinition(s: Obj, extension: boolean): string {
  const ops = list(s.OperationTypes).map((o) => `${str(o.Operation)}: ${str(o.Type)}`);
  return `${extension ? 'extend ' : printDescription(s.Description)}schema${printDirectives(s.Directives)}${ops.length > 0 ? ` { ${ops.join(' ')} }` : ''}`;
}

export function printSchemaAst(doc: Json): string {
  const d = obj(doc);
  const directives = list(d.Directives).map((x) => {
    const args = list(x.Arguments).length > 0 ? `(${printInputValues(x.Arguments)})` : '';
    return `${printDescription(x.Description)}directive @${str(x.Name)}${args}${x.IsRepeatable === true ? ' repeatable' : ''} on ${strings(x.Locations).join(' | ')}`;
  });
  return [
    ...list(d.Schema).map((s) => printSchemaDefinition(s, false)),
    ...list(d.SchemaExtension).map((s) => printSchemaDefinition(s, true)),
    ...directives,
    ...list(d.Definitions).map((x) => printDefinition(x, false)),
    ...list(d.Extensions).map((x) => printDefinition(x, true)),
  ].join('\n');
}
