/**
 * A GraphQL parser that builds gqlparser's AST as OPA returns it from graphql.parse_query and
 * graphql.parse_schema: the Go structs' field names (Operations, SelectionSet, Alias, Kind, ...), with
 * null and empty fields and Position dropped (OPA's pruneIrrelevantGraphQLASTNodes). Errors carry
 * gqlparser's messages and line:column.
 */
import type { Json } from '../value.js';
import { kindText, Lexer, tokenText, type Token, type TokenKind } from './graphql-lexer.js';

export class GraphqlSyntaxError extends Error {
  constructor(message: string, readonly line: number, readonly column: number) {
    super(message);
  }
}

type Obj = { [key: string]: Json };

/** Nesting (selection sets, values, list types) deeper than this is refused, before the JS stack runs out. */
export const MAX_GRAPHQL_DEPTH = 200;

/** gqlparser's ast.ValueKind numbers. */
const VALUE_KIND = { Variable: 0, Int: 1, Float: 2, String: 3, Block: 4, Boolean: 5, Null: 6, Enum: 7, List: 8, Object: 9 } as const;

const DIRECTIVE_LOCATIONS = new Set([
  'QUERY', 'MUTATION', 'SUBSCRIPTION', 'FIELD', 'FRAGMENT_DEFINITION', 'FRAGMENT_SPREAD', 'INLINE_FRAGMENT',
  'VARIABLE_DEFINITION', 'SCHEMA', 'SCALAR', 'OBJECT', 'FIELD_DEFINITION', 'ARGUMENT_DEFINITION', 'INTERFACE',
  'UNION', 'ENUM', 'ENUM_VALUE', 'INPUT_OBJECT', 'INPUT_FIELD_DEFINITION',
]);

const DEFINITION_KIND: Record<string, string> = {
  scalar: 'SCALAR', type: 'OBJECT', interface: 'INTERFACE', union: 'UNION', enum: 'ENUM', input: 'INPUT_OBJECT',
};

/** Drops null, empty arrays/objects (after pruning) and Position, as OPA does. */
export function pruneAst(v: Json): Json {
  if (Array.isArray(v)) {
    const out: Json[] = [];
    for (const e of v) {
      if (e === null) continue;
      const p = pruneAst(e);
      if (isEmpty(p)) continue;
      out.push(p);
    }
    return out;
  }
  if (v !== null && typeof v === 'object') {
    const out: Obj = {};
    for (const [k, e] of Object.entries(v)) {
      if (k === 'Position' || e === null) continue;
      const p = pruneAst(e);
      if (isEmpty(p)) continue;
      out[k] = p;
    }
    return out;
  }
  return v;
}

function isEmpty(v: Json): boolean {
  if (Array.isArray(v)) return v.length === 0;
  return v !== null && typeof v === 'object' && Object.keys(v).length === 0;
}

class Parser {
  private readonly lexer: Lexer;
  private tok: Token;
  private depth = 0;

  constructor(src: string) {
    this.lexer = new Lexer(src);
    this.tok = this.lexer.next();
  }

  private peek(): Token {
    return this.tok;
  }

  private next(): Token {
    const t = this.tok;
    if (t.kind === 'Invalid') this.unexpected(t);
    this.tok = this.lexer.next();
    return t;
  }

  private fail(t: Token, message: string): never {
    throw new GraphqlSyntaxError(message, t.line, t.column);
  }

  private unexpected(t: Token = this.tok): never {
    this.fail(t, `Unexpected ${tokenText(t)}`);
  }

  private expect(kind: TokenKind): Token {
    const t = this.peek();
    if (t.kind !== kind) this.fail(t, `Expected ${kind}, found ${kindText(t)}`);
    return this.next();
  }

  private skip(kind: TokenKind): boolean {
    if (this.peek().kind !== kind) return false;
    this.next();
    return true;
  }

  private peekKeyword(word: string): boolean {
    return this.tok.kind === 'Name' && this.tok.value === word;
  }

  private expectKeyword(word: string): void {
    const t = this.peek();
    if (t.kind !== 'Name' || t.value !== word) this.fail(t, `Expected "${word}", found ${tokenText(t)}`);
    this.next();
  }

  private name(): string {
    return this.expect('Name').value;
  }

  /** Zero or more items between `start` and `end`, only when the next token is `start`. */
  private many<T>(start: TokenKind, end: TokenKind, item: () => T): T[] {
    const out: T[] = [];
    if (this.peek().kind !== start) return out;
    this.next();
    while (this.peek().kind !== end) out.push(item());
    this.next();
    return out;
  }

  /** One or more items between `start` and `end`. */
  private some<T>(start: TokenKind, end: TokenKind, item: () => T): T[] {
    const out: T[] = [];
    if (this.peek().kind !== start) return out;
    this.next();
    if (this.peek().kind === end) this.fail(this.peek(), `expected at least one definition, found ${kindText(this.peek())}`);
    while (this.peek().kind !== end) out.push(item());
    this.next();
    return out;
  }

  // ---- query documents ----

  queryDocument(): Obj {
    const operations: Json[] = [];
    const fragments: Json[] = [];
    while (this.peek().kind !== 'EOF') {
      const t = this.peek();
      if (t.kind === '{') operations.push(this.operation());
      else if (t.kind === 'Name' && ['query', 'mutation', 'subscription'].includes(t.value)) operations.push(this.operation());
      else if (t.kind === 'Name' && t.value === 'fragment') fragments.push(this.fragmentDefinition());
      else this.unexpected(t);
    }
    return { Operations: operations, Fragments: fragments };
  }

  private operation(): Obj {
    if (this.peek().kind === '{') {
      return { Operation: 'query', Name: '', VariableDefinitions: [], Directives: [], SelectionSet: this.selectionSet() };
    }
    const operation = this.next().value;
    const name = this.peek().kind === 'Name' ? this.next().value : '';
    return {
      Operation: operation,
      Name: name,
      VariableDefinitions: this.variableDefinitions(),
      Directives: this.directives(false),
      SelectionSet: this.requiredSelectionSet(),
    };
  }

  private variableDefinitions(): Json[] {
    return this.many('(', ')', () => {
      this.expect('$');
      const variable = this.name();
      this.expect(':');
      const type = this.typeReference();
      const defaultValue = this.skip('=') ? this.value(true) : null;
      return { Variable: variable, Type: type, DefaultValue: defaultValue, Directives: this.directives(true), Used: false };
    });
  }

  /** Runs a nested construct, counting depth. */
  private nested<T>(f: () => T): T {
    if (++this.depth > MAX_GRAPHQL_DEPTH) this.fail(this.tok, `nesting deeper than ${MAX_GRAPHQL_DEPTH} levels`);
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private selectionSet(): Json[] {
    return this.nested(() => this.some('{', '}', () => this.selection()));
  }

  private requiredSelectionSet(): Json[] {
    const t = this.peek();
    if (t.kind !== '{') this.fail(t, `Expected {, found ${kindText(t)}`);
    return this.selectionSet();
  }

  private selection(): Obj {
    if (this.peek().kind === '...') return this.fragment();
    let alias = this.name();
    let name = alias;
    if (this.skip(':')) name = this.name();
    else alias = name;
    const args = this.arguments(false);
    const directives = this.directives(false);
    const selectionSet = this.peek().kind === '{' ? this.selectionSet() : [];
    return { Alias: alias, Name: name, Arguments: args, Directives: directives, SelectionSet: selectionSet };
  }

  private fragment(): Obj {
    this.expect('...');
    if (this.peek().kind === 'Name' && this.peek().value !== 'on') {
      return { Name: this.name(), Directives: this.directives(false) };
    }
    let typeCondition = '';
    if (this.peekKeyword('on')) {
      this.next();
      typeCondition = this.name();
    }
    return { TypeCondition: typeCondition, Directives: this.directives(false), SelectionSet: this.requiredSelectionSet() };
  }

  private fragmentDefinition(): Obj {
    this.expectKeyword('fragment');
    if (this.peekKeyword('on')) this.unexpected();
    const name = this.name();
    const variables = this.variableDefinitions();
    this.expectKeyword('on');
    const typeCondition = this.name();
    return {
      Name: name,
      VariableDefinition: variables,
      TypeCondition: typeCondition,
      Directives: this.directives(false),
      SelectionSet: this.requiredSelectionSet(),
    };
  }

  private arguments(isConst: boolean): Json[] {
    return this.many('(', ')', () => {
      const name = this.name();
      this.expect(':');
      return { Name: name, Value: this.value(isConst) };
    });
  }

  private directives(isConst: boolean): Json[] {
    const out: Json[] = [];
    while (this.peek().kind === '@') {
      this.next();
      const name = this.name();
      out.push({ Name: name, Arguments: this.arguments(isConst), Location: '' });
    }
    return out;
  }

  private value(isConst: boolean): Obj {
    return this.nested(() => this.valueLiteral(isConst));
  }

  private valueLiteral(isConst: boolean): Obj {
    const t = this.peek();
    const scalar = (kind: number, raw: string): Obj => ({ Raw: raw, Children: [], Kind: kind, ExpectedTypeHasDefault: false });
    switch (t.kind) {
      case '[': {
        const children = this.many('[', ']', () => ({ Name: '', Value: this.value(isConst) }));
        return { Raw: '', Children: children, Kind: VALUE_KIND.List, ExpectedTypeHasDefault: false };
      }
      case '{': {
        const children = this.many('{', '}', () => {
          const name = this.name();
          this.expect(':');
          return { Name: name, Value: this.value(isConst) };
        });
        return { Raw: '', Children: children, Kind: VALUE_KIND.Object, ExpectedTypeHasDefault: false };
      }
      case '$':
        if (isConst) this.unexpected();
        this.next();
        return scalar(VALUE_KIND.Variable, this.name());
      case 'Int': this.next(); return scalar(VALUE_KIND.Int, t.value);
      case 'Float': this.next(); return scalar(VALUE_KIND.Float, t.value);
      case 'String': this.next(); return scalar(VALUE_KIND.String, t.value);
      case 'BlockString': this.next(); return scalar(VALUE_KIND.Block, t.value);
      case 'Name':
        this.next();
        if (t.value === 'true' || t.value === 'false') return scalar(VALUE_KIND.Boolean, t.value);
        if (t.value === 'null') return scalar(VALUE_KIND.Null, t.value);
        return scalar(VALUE_KIND.Enum, t.value);
      default:
        this.unexpected();
    }
  }

  private typeReference(): Obj {
    return this.nested(() => this.typeLiteral());
  }

  private typeLiteral(): Obj {
    let type: Obj;
    if (this.skip('[')) {
      const elem = this.typeReference();
      this.expect(']');
      type = { NamedType: '', Elem: elem, NonNull: false };
    } else {
      type = { NamedType: this.name(), Elem: null, NonNull: false };
    }
    if (this.skip('!')) type.NonNull = true;
    return type;
  }

  // ---- schema documents ----

  schemaDocument(): Obj {
    const doc: Record<'Schema' | 'SchemaExtension' | 'Directives' | 'Definitions' | 'Extensions', Json[]> = {
      Schema: [], SchemaExtension: [], Directives: [], Definitions: [], Extensions: [],
    };
    while (this.peek().kind !== 'EOF') {
      let descriptionToken: Token | undefined;
      let description = '';
      if (this.peek().kind === 'String' || this.peek().kind === 'BlockString') {
        descriptionToken = this.next();
        description = descriptionToken.value;
      }
      const t = this.peek();
      if (t.kind !== 'Name') this.unexpected(t);
      if (t.value in DEFINITION_KIND) doc.Definitions.push(this.typeDefinition(description));
      else if (t.value === 'schema') doc.Schema.push(this.schemaDefinition(description));
      else if (t.value === 'directive') doc.Directives.push(this.directiveDefinition(description));
      else if (t.value === 'extend') {
        if (descriptionToken) this.unexpected(descriptionToken);
        this.next();
        if (this.peekKeyword('schema')) doc.SchemaExtension.push(this.schemaExtension());
        else doc.Extensions.push(this.typeExtension());
      } else this.unexpected(t);
    }
    return doc;
  }

  private description(): string {
    const k = this.peek().kind;
    return k === 'String' || k === 'BlockString' ? this.next().value : '';
  }

  private definition(kind: string, name: string, description: string): Obj {
    return {
      Kind: kind, Description: description, Name: name, Directives: [], Interfaces: [], Fields: [], Types: [], EnumValues: [], BuiltIn: false,
    };
  }

  private typeDefinition(description: string): Obj {
    const keyword = this.next().value;
    const def = this.definition(DEFINITION_KIND[keyword], this.name(), description);
    this.typeBody(keyword, def, false);
    return def;
  }

  private typeExtension(): Obj {
    const t = this.peek();
    if (t.kind !== 'Name' || !(t.value in DEFINITION_KIND)) this.unexpected(t);
    this.next();
    const def = this.definition(DEFINITION_KIND[t.value], this.name(), '');
    this.typeBody(t.value, def, true);
    return def;
  }

  /** The part after the name; an extension must add something (gqlparser: Unexpected <next token>). */
  private typeBody(keyword: string, def: Obj, extension: boolean): void {
    if (keyword === 'type' || keyword === 'interface') def.Interfaces = this.implementsInterfaces();
    def.Directives = this.directives(true);
    let added = (def.Interfaces as Json[]).length + (def.Directives as Json[]).length;
    if (keyword === 'type' || keyword === 'interface') def.Fields = this.some('{', '}', () => this.fieldDefinition());
    else if (keyword === 'input') def.Fields = this.some('{', '}', () => this.inputValueDefinition());
    else if (keyword === 'enum') def.EnumValues = this.some('{', '}', () => this.enumValueDefinition());
    else if (keyword === 'union') def.Types = this.unionMembers();
    added += (def.Fields as Json[]).length + (def.EnumValues as Json[]).length + (def.Types as Json[]).length;
    if (extension && added === 0) this.unexpected();
  }

  private implementsInterfaces(): string[] {
    const out: string[] = [];
    if (!this.peekKeyword('implements')) return out;
    this.next();
    this.skip('&');
    do out.push(this.name());
    while (this.skip('&'));
    return out;
  }

  private unionMembers(): string[] {
    const out: string[] = [];
    if (!this.skip('=')) return out;
    this.skip('|');
    do out.push(this.name());
    while (this.skip('|'));
    return out;
  }

  private fieldDefinition(): Obj {
    const description = this.description();
    const name = this.name();
    const args = this.many('(', ')', () => this.inputValueDefinition());
    this.expect(':');
    const type = this.typeReference();
    return { Description: description, Name: name, Arguments: args, DefaultValue: null, Type: type, Directives: this.directives(true) };
  }

  private inputValueDefinition(): Obj {
    const description = this.description();
    const name = this.name();
    this.expect(':');
    const type = this.typeReference();
    const defaultValue = this.skip('=') ? this.value(true) : null;
    return { Description: description, Name: name, DefaultValue: defaultValue, Type: type, Directives: this.directives(true) };
  }

  private enumValueDefinition(): Obj {
    const description = this.description();
    const t = this.peek();
    if (t.kind === 'Name' && ['true', 'false', 'null'].includes(t.value)) this.fail(t, `${t.value} is reserved and cannot be used as an enum value`);
    return { Description: description, Name: this.name(), Directives: this.directives(true) };
  }

  private operationTypes(): Json[] {
    return this.some('{', '}', () => {
      const t = this.peek();
      if (t.kind !== 'Name' || !['query', 'mutation', 'subscription'].includes(t.value)) this.unexpected(t);
      this.next();
      this.expect(':');
      return { Operation: t.value, Type: this.name() };
    });
  }

  private schemaDefinition(description: string): Obj {
    this.expectKeyword('schema');
    const directives = this.directives(true);
    return { Description: description, Directives: directives, OperationTypes: this.operationTypes() };
  }

  private schemaExtension(): Obj {
    this.expectKeyword('schema');
    const directives = this.directives(true);
    const operationTypes = this.operationTypes();
    if (directives.length === 0 && operationTypes.length === 0) this.unexpected();
    return { Description: '', Directives: directives, OperationTypes: operationTypes };
  }

  private directiveDefinition(description: string): Obj {
    this.expectKeyword('directive');
    this.expect('@');
    const name = this.name();
    const args = this.many('(', ')', () => this.inputValueDefinition());
    let repeatable = false;
    if (this.peekKeyword('repeatable')) {
      this.next();
      repeatable = true;
    }
    this.expectKeyword('on');
    const locations: string[] = [];
    this.skip('|');
    do {
      const t = this.peek();
      const loc = this.name();
      if (!DIRECTIVE_LOCATIONS.has(loc)) this.unexpected(t);
      locations.push(loc);
    } while (this.skip('|'));
    return { Description: description, Name: name, Arguments: args, Locations: locations, IsRepeatable: repeatable };
  }
}

/** gqlparser.ParseQuery, pruned as OPA returns it. Throws GraphqlSyntaxError. */
export function parseQueryAst(text: string): Json {
  return pruneAst(new Parser(text).queryDocument());
}

/** gqlparser.ParseSchema (without the built-in definitions), pruned as OPA returns it. */
export function parseSchemaAst(text: string): Json {
  return pruneAst(new Parser(text).schemaDocument());
}
