/**
 * Rego parser: tokens to a Module. Accepts v1 syntax (`if`, `contains`, keywords always on) and v0
 * syntax (bodies without `if`, `p[x] { }` partial sets, `import future.keywords...`). Operator precedence
 * follows OPA's parser: `in` < relations (== != < <= > >=) < `|` < `&` < `+ -` < `* / %` < unary < primary.
 */
import type { Expr, ExprKind, Import, Loc, Module, Rule, RuleHead, Term, WithModifier } from './ast.js';
import { ParseDepthError, RegoError } from './errors.js';
import { lex, type Token } from './lexer.js';
import { numFromText } from './value.js';
import { readAnnotationBlocks } from './annotations.js';

export type SyntaxVersion = 'v0' | 'v1';

export interface ParseOptions {
  syntax?: SyntaxVersion;
  maxSourceBytes?: number;
  maxNestingDepth?: number;
}

const KEYWORDS = new Set(['if', 'contains', 'in', 'some', 'every', 'not', 'with', 'as', 'default', 'else', 'import', 'package']);
const RELATIONS: Record<string, string> = { '==': 'equal', '!=': 'neq', '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' };
/** The other binary operators by precedence level (module constants: every term passes through each level). */
const UNION: Record<string, string> = { '|': 'or' };
const INTERSECTION: Record<string, string> = { '&': 'and' };
const SUMS: Record<string, string> = { '+': 'plus', '-': 'minus' };
const PRODUCTS: Record<string, string> = { '*': 'mul', '/': 'div', '%': 'rem' };

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
    private readonly file: string,
    private readonly syntax: SyntaxVersion,
    private readonly maxDepth: number,
  ) {}

  // --- token helpers ---
  private get tok(): Token {
    return this.tokens[this.pos];
  }
  private peek(n = 1): Token {
    return this.tokens[Math.min(this.pos + n, this.tokens.length - 1)];
  }
  private loc(t: Token = this.tok): Loc {
    return { file: this.file, line: t.line, column: t.column };
  }
  private error(message: string, t: Token = this.tok): never {
    throw new RegoError('rego_parse_error', message, { file: this.file, line: t.line, column: t.column });
  }
  private isOp(text: string, t: Token = this.tok): boolean {
    return t.kind === 'op' && t.text === text;
  }
  private isIdent(text: string, t: Token = this.tok): boolean {
    return t.kind === 'ident' && t.text === text;
  }
  private expectOp(text: string): Token {
    if (!this.isOp(text)) this.error(`unexpected ${this.describe()} token: expected ${text}`);
    return this.tokens[this.pos++];
  }
  private describe(t: Token = this.tok): string {
    if (t.kind === 'eof') return 'eof';
    if (t.kind === 'newline') return 'newline';
    if (t.kind === 'ident') return KEYWORDS.has(t.text) ? `${t.text} keyword` : 'ident';
    if (t.kind === 'string' || t.kind === 'rawstring') return 'string';
    if (t.kind === 'number') return 'number';
    return `${t.text}`;
  }
  private skipNewlines(): void {
    while (this.tok.kind === 'newline' || this.isOp(';')) this.pos++;
  }
  private skipLineBreaks(): void {
    while (this.tok.kind === 'newline') this.pos++;
  }
  private enter(): void {
    if (++this.depth > this.maxDepth) throw new ParseDepthError(this.maxDepth, this.loc());
  }
  private leave(): void {
    this.depth--;
  }

  // --- module ---
  parseModule(): Module {
    this.skipNewlines();
    if (!this.isIdent('package')) this.error('package expected');
    this.pos++;
    const pkgRef = this.parseRefPath();
    const pkg = pkgRef.map((t) => (t.type === 'scalar' && typeof t.value === 'string' ? t.value : this.error('invalid package path')));
    const imports: Import[] = [];
    const rules: Rule[] = [];
    this.skipNewlines();
    while (this.isIdent('import')) {
      const t = this.tok;
      this.pos++;
      const path = this.parseRefPath().map((p) => (p.type === 'scalar' ? String(p.value) : this.error('invalid import path')));
      let alias: string | undefined;
      if (this.isIdent('as')) {
        this.pos++;
        alias = this.tok.text;
        this.pos++;
      }
      if (!['data', 'input', 'future', 'rego'].includes(path[0])) this.error(`invalid import path: ${path.join('.')}`, t);
      imports.push({ path, alias, loc: this.loc(t) });
      this.skipNewlines();
    }
    while (this.tok.kind !== 'eof') {
      rules.push(...this.parseRule(pkg));
      this.skipNewlines();
    }
    return { file: this.file, pkg, imports, rules };
  }

  /** `a.b["c"].d` as constant path segments (package and import paths). */
  private parseRefPath(): Term[] {
    const out: Term[] = [];
    if (this.tok.kind !== 'ident') this.error(`unexpected ${this.describe()} token: expected ref`);
    out.push({ type: 'scalar', value: this.tok.text, loc: this.loc() });
    this.pos++;
    while (this.isOp('.') || this.isOp('[')) {
      if (this.isOp('.')) {
        this.pos++;
        if (this.tok.kind !== 'ident') this.error(`unexpected ${this.describe()} token: expected ident`);
        out.push({ type: 'scalar', value: this.tok.text, loc: this.loc() });
        this.pos++;
      } else {
        this.pos++;
        const t = this.tok;
        if (t.kind !== 'string') this.error('expected string in ref');
        out.push({ type: 'scalar', value: t.value as string, loc: this.loc() });
        this.pos++;
        this.expectOp(']');
      }
    }
    return out;
  }

  // --- rules ---
  private parseRule(pkg: string[]): Rule[] {
    const start = this.tok;
    let isDefault = false;
    if (this.isIdent('default') && !this.keywordAsRef()) {
      isDefault = true;
      this.pos++;
    }
    if (this.tok.kind !== 'ident' || (KEYWORDS.has(this.tok.text) && this.tok.text !== 'contains' && !this.keywordAsRef())) {
      this.error(`unexpected ${this.describe()} token`);
    }
    const ref = this.parseHeadRef();
    const head: RuleHead = { ref, assign: false };
    if (this.isOp('(')) {
      this.pos++;
      head.args = this.parseTermList(')');
    }
    if (this.isIdent('contains')) {
      this.pos++;
      head.key = this.parseTerm();
    } else if (this.isOp(':=') || this.isOp('=')) {
      head.assign = this.tok.text === ':=';
      this.pos++;
      this.skipLineBreaks();
      head.value = this.parseTerm();
    }
    // v0 `p[x] { }` (and `p[x]` alone) is a partial set; in v1 it is a ref head with value true.
    if (!head.key && !head.value && !head.args && this.lastHeadBracketed && this.syntax === 'v0') {
      head.key = ref[ref.length - 1];
      head.ref = ref.slice(0, -1);
    }
    const rule: Rule = { head, body: [], isDefault, elses: [], loc: this.loc(start), module: this.file, pkg };
    if (isDefault) {
      if (!head.value) this.error('default rules must have a value', start);
      return [rule];
    }
    const bodies: Expr[][] = [];
    if (this.isIdent('if')) {
      this.pos++;
      bodies.push(this.parseIfBody());
    } else if (this.isOp('{')) {
      if (this.syntax === 'v1') this.error("`if` keyword is required before rule body", this.tok);
      bodies.push(this.parseBody());
      // v0: `p { a } { b }` defines two rules with the same head.
      while (this.isOp('{')) bodies.push(this.parseBody());
    } else {
      bodies.push([]);
    }
    while (this.peekElse()) {
      this.skipLineBreaks();
      const t = this.tok;
      this.pos++;
      let value: Term | undefined;
      if (this.isOp('=') || this.isOp(':=')) {
        this.pos++;
        value = this.parseTerm();
      }
      let body: Expr[] = [];
      if (this.isIdent('if')) {
        this.pos++;
        body = this.isOp('{') ? this.parseBody() : [this.parseExpr()];
      } else if (this.isOp('{')) body = this.parseBody();
      rule.elses.push({ value, body, loc: this.loc(t) });
    }
    rule.body = bodies[0];
    const rules = [rule];
    for (const extra of bodies.slice(1)) rules.push({ ...rule, body: extra, elses: [] });
    return rules;
  }

  private lastHeadBracketed = false;

  /** After `if`: a braced body, or one expression (`p if {x: 1 | ...}` is an expression starting with `{`). */
  private parseIfBody(): Expr[] {
    if (!this.isOp('{')) return [this.parseExpr()];
    const save = this.pos;
    const depth = this.depth;
    try {
      return this.parseBody();
    } catch (error) {
      if (!(error instanceof RegoError) || error instanceof ParseDepthError) throw error;
      this.pos = save;
      this.depth = depth;
      try {
        return [this.parseExpr()];
      } catch {
        throw error;
      }
    }
  }

  private peekElse(): boolean {
    let i = this.pos;
    while (this.tokens[i].kind === 'newline') i++;
    if (!this.isIdent('else', this.tokens[i])) return false;
    // `else.foo := 1` is a rule whose ref starts with the keyword, not an else branch.
    const next = this.tokens[i + 1];
    return !(next.offset === this.tokens[i].end && next.kind === 'op' && (next.text === '.' || next.text === '['));
  }

  private parseHeadRef(): Term[] {
    const out: Term[] = [{ type: 'scalar', value: this.tok.text, loc: this.loc() }];
    this.pos++;
    this.lastHeadBracketed = false;
    while (this.isOp('.') || this.isOp('[')) {
      if (this.isOp('.')) {
        this.pos++;
        if (this.tok.kind !== 'ident') this.error('unexpected token after .');
        out.push({ type: 'scalar', value: this.tok.text, loc: this.loc() });
        this.pos++;
        this.lastHeadBracketed = false;
      } else {
        this.pos++;
        this.skipLineBreaks();
        out.push(this.parseTerm());
        this.skipLineBreaks();
        this.expectOp(']');
        this.lastHeadBracketed = true;
      }
    }
    return out;
  }

  private parseBody(): Expr[] {
    this.expectOp('{');
    this.enter();
    const exprs: Expr[] = [];
    this.skipNewlines();
    while (!this.isOp('}')) {
      if (this.tok.kind === 'eof') this.error('unexpected eof token: expected }');
      exprs.push(this.parseExpr());
      if (!this.isOp('}') && this.tok.kind !== 'newline' && !this.isOp(';')) this.error(`unexpected ${this.describe()} token: expected \\n or ; or }`);
      this.skipNewlines();
    }
    this.pos++;
    this.leave();
    if (exprs.length === 0) this.error('found empty body');
    return exprs;
  }

  // --- expressions ---
  /** A keyword directly followed by `.` or `[` is a ref head (`every.foo`), not the keyword. */
  private keywordAsRef(): boolean {
    const next = this.peek();
    return next.offset === this.tok.end && next.kind === 'op' && (next.text === '.' || next.text === '[');
  }

  parseExpr(): Expr {
    // `not not ...` and comprehension bodies recurse through here.
    this.enter();
    try {
      return this.parseExprInner();
    } finally {
      this.leave();
    }
  }

  private parseExprInner(): Expr {
    const start = this.tok;
    let kind: ExprKind;
    const asRef = this.tok.kind === 'ident' && this.keywordAsRef();
    if (this.isIdent('some') && !asRef) kind = this.parseSome();
    else if (this.isIdent('every') && !asRef) kind = this.parseEvery();
    else if (this.isIdent('not') && !asRef) {
      this.pos++;
      kind = { kind: 'not', expr: this.parseExpr() };
    } else {
      const lhs = this.parseTermOrMember();
      if (this.isOp(':=') || this.isOp('=')) {
        const assign = this.tok.text === ':=';
        this.pos++;
        this.skipLineBreaks();
        const rhs = this.parseTermOrMember();
        kind = assign ? { kind: 'assign', lhs, rhs } : { kind: 'unify', lhs, rhs };
      } else kind = { kind: 'term', term: lhs };
    }
    const withs = kind.kind !== 'not' ? this.parseWiths() : [];
    const endTok = this.tokens[this.pos - 1];
    const text = this.source.slice(start.offset, endTok.end);
    if (kind.kind === 'not') return { ...kind, loc: this.loc(start), text, with: kind.expr.with } as Expr;
    return { ...kind, loc: this.loc(start), text, with: withs } as Expr;
  }

  /** Zero or more `with <target> as <value>` modifiers. */
  private parseWiths(): WithModifier[] {
    const withs: WithModifier[] = [];
    while (this.isIdent('with') || this.withOnNextLine()) {
      this.pos++;
      const target = this.parseTerm();
      if (!this.isIdent('as')) this.error('expected as');
      this.pos++;
      withs.push({ target, value: this.parseTerm() });
    }
    return withs;
  }

  /** `with` modifiers may continue on the following lines. */
  private withOnNextLine(): boolean {
    if (this.tok.kind !== 'newline') return false;
    let i = this.pos;
    while (this.tokens[i].kind === 'newline') i++;
    if (!this.isIdent('with', this.tokens[i])) return false;
    const next = this.tokens[i + 1];
    if (next.offset === this.tokens[i].end && next.kind === 'op' && (next.text === '.' || next.text === '[')) return false;
    this.pos = i;
    return true;
  }

  /** A term, or `k, v in xs` / `x in xs` at expression level. */
  private parseTermOrMember(): Term {
    const first = this.parseTerm();
    if (this.isOp(',') && this.lookaheadIn()) {
      this.pos++;
      const value = this.parseTermNoIn();
      const t = this.tok;
      this.pos++; // in
      const coll = this.parseTermNoIn();
      return { type: 'call', fn: ['internal', 'member_3'], args: [first, value, coll], loc: this.loc(t) };
    }
    return first;
  }

  /** Is there `<term> in` after the current comma (for `k, v in xs`)? */
  private lookaheadIn(): boolean {
    let i = this.pos + 1;
    let depth = 0;
    for (; i < this.tokens.length; i++) {
      const t = this.tokens[i];
      if (t.kind === 'eof' || (depth === 0 && (t.kind === 'newline' || (t.kind === 'op' && [',', ';', '}', ')', ']', ':=', '='].includes(t.text))))) return false;
      if (t.kind === 'op' && ['(', '[', '{'].includes(t.text)) depth++;
      if (t.kind === 'op' && [')', ']', '}'].includes(t.text)) depth--;
      if (depth === 0 && this.isIdent('in', t)) return true;
    }
    return false;
  }

  private parseSome(): ExprKind {
    this.pos++;
    const first = this.parseTermNoIn();
    let key: Term | undefined;
    let value = first;
    if (this.isOp(',')) {
      // `some k, v in xs` or `some a, b, c`
      const vars: Term[] = [first];
      while (this.isOp(',')) {
        this.pos++;
        vars.push(this.parseTermNoIn());
      }
      if (this.isIdent('in')) {
        if (vars.length !== 2) this.error('unexpected in keyword');
        key = vars[0];
        value = vars[1];
      } else {
        return { kind: 'some', vars: vars.map((v) => (v.type === 'var' ? v.name : this.error('expected var in some declaration'))) };
      }
    }
    if (this.isIdent('in')) {
      this.pos++;
      const collection = this.parseTermNoIn();
      return { kind: 'somein', key, value, collection };
    }
    if (value.type !== 'var') this.error('expected var in some declaration');
    return { kind: 'some', vars: [value.name] };
  }

  private parseEvery(): ExprKind {
    const start = this.tok;
    this.pos++;
    const first = this.parseTermNoIn();
    let key: string | undefined;
    let value: Term = first;
    if (this.isOp(',')) {
      this.pos++;
      value = this.parseTermNoIn();
      key = first.type === 'var' ? first.name : this.error('expected var in every declaration', start);
    }
    if (value.type !== 'var') this.error('expected var in every declaration', start);
    if (!this.isIdent('in')) this.error('expected in keyword');
    this.pos++;
    const collection = this.parseTermNoIn();
    const body = this.parseBody();
    return { kind: 'every', key, value: value.name, collection, body };
  }

  // --- terms ---
  private inDisabled = 0;
  private parseTermNoIn(): Term {
    this.inDisabled++;
    try {
      return this.parseTerm();
    } finally {
      this.inDisabled--;
    }
  }

  parseTerm(): Term {
    this.enter();
    try {
      let left = this.parseRelation();
      while (this.inDisabled === 0 && this.isIdent('in')) {
        const t = this.tok;
        this.pos++;
        this.skipLineBreaks();
        const right = this.parseRelation();
        left = { type: 'call', fn: ['internal', 'member_2'], args: [left, right], loc: this.loc(t) };
      }
      return left;
    } finally {
      this.leave();
    }
  }

  private binary(next: () => Term, ops: Record<string, string>): Term {
    let left = next();
    while (this.tok.kind === 'op' && ops[this.tok.text] !== undefined) {
      const t = this.tok;
      this.pos++;
      this.skipLineBreaks();
      const right = next();
      left = { type: 'call', fn: [ops[t.text]], args: [left, right], loc: left.loc };
    }
    return left;
  }
  private parseRelation = (): Term => this.binary(this.parseOr, RELATIONS);
  /** Inside `[ head |` and `{ head |` the pipe starts the comprehension body, so it is not union. */
  private noPipe = 0;
  private parseOr = (): Term => (this.noPipe > 0 ? this.parseAnd() : this.binary(this.parseAnd, UNION));
  private headTerm(): Term {
    this.noPipe++;
    try {
      return this.parseTerm();
    } finally {
      this.noPipe--;
    }
  }
  private parseAnd = (): Term => this.binary(this.parseArith, INTERSECTION);
  private parseArith = (): Term => this.binary(this.parseFactor, SUMS);
  private parseFactor = (): Term => this.binary(this.parseUnary, PRODUCTS);

  private parseUnary = (): Term => {
    if (this.isOp('-')) {
      const t = this.tok;
      const next = this.peek();
      if (next.kind === 'number' && next.offset === t.end) {
        this.pos += 2;
        return this.parseRefSuffix({ type: 'scalar', value: numFromText('-' + next.text), loc: this.loc(t) });
      }
      this.pos++;
      this.enter();
      let operand: Term;
      try {
        operand = this.parseUnary();
      } finally {
        this.leave();
      }
      return { type: 'call', fn: ['minus'], args: [{ type: 'scalar', value: 0, loc: this.loc(t) }, operand], loc: this.loc(t) };
    }
    return this.parsePrimary();
  };

  private parsePrimary(): Term {
    const t = this.tok;
    const loc = this.loc(t);
    switch (t.kind) {
      case 'number':
        this.pos++;
        return this.parseRefSuffix({ type: 'scalar', value: numFromText(t.text), loc });
      case 'string':
      case 'rawstring':
        this.pos++;
        return this.parseRefSuffix({ type: 'scalar', value: t.value as string, loc });
      case 'template':
        this.pos++;
        return this.parseTemplate(t);
      case 'ident': {
        if ((t.text === 'true' || t.text === 'false') && !this.keywordAsRef()) {
          this.pos++;
          return { type: 'scalar', value: t.text === 'true', loc };
        }
        if (t.text === 'null' && !this.keywordAsRef()) {
          this.pos++;
          return { type: 'scalar', value: null, loc };
        }
        if (KEYWORDS.has(t.text) && t.text !== 'contains' && t.text !== 'if' && !this.keywordAsRef()) this.error(`unexpected ${t.text} keyword`);
        this.pos++;
        return this.parseRefSuffix({ type: 'var', name: t.text, loc });
      }
      case 'op':
        if (t.text === '(') {
          this.pos++;
          this.skipLineBreaks();
          const inner = this.parseTermOrMember();
          this.skipLineBreaks();
          this.expectOp(')');
          return this.parseRefSuffix(inner);
        }
        if (t.text === '[') return this.parseRefSuffix(this.parseArray());
        if (t.text === '{') return this.parseRefSuffix(this.parseBrace());
        break;
      default:
        break;
    }
    return this.error(`unexpected ${this.describe()} token`);
  }

  private parseTemplate(t: Token): Term {
    const raw = t.value as string;
    const quote = raw[0];
    const body = raw.slice(1);
    const parts: (string | Term)[] = [];
    let text = '';
    let i = 0;
    while (i < body.length) {
      const ch = body[i];
      if (quote === '"' && ch === '\\') {
        const e = body[i + 1];
        const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', '{': '{', '}': '}', '/': '/', b: '\b', f: '\f' };
        if (e === 'u') {
          text += String.fromCharCode(parseInt(body.slice(i + 2, i + 6), 16));
          i += 6;
          continue;
        }
        if (map[e] === undefined) this.error(`illegal escape sequence \\${e}`, t);
        text += map[e];
        i += 2;
        continue;
      }
      if (quote === '`' && ch === '\\' && body[i + 1] === '{') {
        text += '{';
        i += 2;
        continue;
      }
      if (ch === '{') {
        let depth = 1;
        let j = i + 1;
        while (j < body.length && depth > 0) {
          if (body[j] === '"') {
            j++;
            while (j < body.length && body[j] !== '"') j += body[j] === '\\' ? 2 : 1;
          } else if (body[j] === '{') depth++;
          else if (body[j] === '}') depth--;
          j++;
        }
        if (depth !== 0) this.error('unterminated template expression', t);
        if (text) parts.push(text);
        text = '';
        const exprSource = body.slice(i + 1, j - 1);
        const tokens = lex(exprSource, this.file).map((k) => ({ ...k, line: t.line, column: t.column }));
        const sub = new Parser(tokens, exprSource, this.file, this.syntax, this.maxDepth);
        sub.skipLineBreaks();
        let term = sub.parseTerm();
        const withs = sub.parseWiths();
        if (withs.length) term = { type: 'with', term, with: withs, loc: term.loc };
        sub.skipLineBreaks();
        if (sub.tok.kind !== 'eof') sub.error('unexpected token in template expression');
        parts.push(term);
        i = j;
        continue;
      }
      text += ch;
      i++;
    }
    if (text) parts.push(text);
    return { type: 'template', parts, loc: this.loc(t) };
  }

  private parseRefSuffix(head: Term): Term {
    let term = head;
    // The ref this loop built itself: later segments are pushed onto its path in place (copying the
    // path on every segment made `input.a.a...` quadratic).
    let owned: Term | undefined;
    const append = (seg: Term): void => {
      if (term === owned && term.type === 'ref') term.path.push(seg);
      else owned = term = this.appendRef(term, seg);
    };
    while (true) {
      const t = this.tok;
      if (this.isOp('.') && this.peek().kind === 'ident' && this.peek().offset === t.end) {
        this.pos++;
        const seg: Term = { type: 'scalar', value: this.tok.text, loc: this.loc() };
        this.pos++;
        append(seg);
      } else if (this.isOp('[') && t.offset === this.tokens[this.pos - 1].end) {
        this.pos++;
        this.skipLineBreaks();
        const idx = this.parseTerm();
        this.skipLineBreaks();
        this.expectOp(']');
        append(idx);
      } else if (this.isOp('(') && t.offset === this.tokens[this.pos - 1].end && this.isCallable(term)) {
        this.pos++;
        const args = this.parseTermList(')');
        const fn = this.callName(term);
        term = fn.length === 1 && fn[0] === 'set' && args.length === 0 ? { type: 'set', items: [], loc: term.loc } : { type: 'call', fn, args, loc: term.loc };
      } else return term;
    }
  }

  private isCallable(term: Term): boolean {
    if (term.type === 'var') return true;
    return term.type === 'ref' && term.head.type === 'var' && term.path.every((p) => p.type === 'scalar' && typeof p.value === 'string');
  }
  private callName(term: Term): string[] {
    if (term.type === 'var') return [term.name];
    if (term.type === 'ref' && term.head.type === 'var') return [term.head.name, ...term.path.map((p) => String((p as { value: unknown }).value))];
    return this.error('invalid function name');
  }
  private appendRef(term: Term, seg: Term): Term {
    if (term.type === 'ref') return { ...term, path: [...term.path, seg] };
    return { type: 'ref', head: term, path: [seg], loc: term.loc };
  }

  private parseTermList(close: string): Term[] {
    const items: Term[] = [];
    this.skipLineBreaks();
    while (!this.isOp(close)) {
      items.push(this.parseTerm());
      this.skipLineBreaks();
      if (this.isOp(',')) {
        this.pos++;
        this.skipLineBreaks();
      } else if (!this.isOp(close)) this.error(`unexpected ${this.describe()} token: expected ${close}`);
    }
    this.pos++;
    return items;
  }

  /** Brackets open a fresh context where `|` is union again (inside a comprehension head too). */
  private withPipes<T>(parse: () => T): T {
    const saved = this.noPipe;
    this.noPipe = 0;
    try {
      return parse();
    } finally {
      this.noPipe = saved;
    }
  }

  private parseArray(): Term {
    return this.withPipes(() => this.parseArrayInner());
  }

  /** After a first item: `, item` until `close` (a trailing comma allowed); consumes `close`. */
  private parseMoreItems<T>(parseItem: () => T, close: string, items: T[]): T[] {
    while (this.isOp(',')) {
      this.pos++;
      this.skipLineBreaks();
      if (this.isOp(close)) break;
      items.push(parseItem());
      this.skipLineBreaks();
    }
    this.expectOp(close);
    return items;
  }

  private parseArrayInner(): Term {
    const t = this.expectOp('[');
    this.skipLineBreaks();
    if (this.isOp(']')) {
      this.pos++;
      return { type: 'array', items: [], loc: this.loc(t) };
    }
    const first = this.headTerm();
    this.skipLineBreaks();
    if (this.isOp('|')) {
      this.pos++;
      const body = this.parseCompBody(']');
      return { type: 'arraycomp', term: first, body, loc: this.loc(t) };
    }
    const items = this.parseMoreItems(() => this.parseTerm(), ']', [first]);
    return { type: 'array', items, loc: this.loc(t) };
  }

  private parseCompBody(close: string): Expr[] {
    const exprs: Expr[] = [];
    this.skipNewlines();
    while (!this.isOp(close)) {
      exprs.push(this.parseExpr());
      this.skipNewlines();
    }
    this.pos++;
    if (exprs.length === 0) this.error('found empty body');
    return exprs;
  }

  private parseBrace(): Term {
    return this.withPipes(() => this.parseBraceInner());
  }

  private parseBraceInner(): Term {
    const t = this.expectOp('{');
    this.skipLineBreaks();
    if (this.isOp('}')) {
      this.pos++;
      return { type: 'object', entries: [], loc: this.loc(t) };
    }
    const first = this.headTerm();
    this.skipLineBreaks();
    if (this.isOp(':')) {
      this.pos++;
      this.skipLineBreaks();
      const firstValue = this.headTerm();
      this.skipLineBreaks();
      if (this.isOp('|')) {
        this.pos++;
        return { type: 'objectcomp', key: first, value: firstValue, body: this.parseCompBody('}'), loc: this.loc(t) };
      }
      const entry = (): [Term, Term] => {
        const k = this.parseTerm();
        this.skipLineBreaks();
        this.expectOp(':');
        this.skipLineBreaks();
        return [k, this.parseTerm()];
      };
      const entries = this.parseMoreItems<[Term, Term]>(entry, '}', [[first, firstValue]]);
      return { type: 'object', entries, loc: this.loc(t) };
    }
    if (this.isOp('|')) {
      this.pos++;
      return { type: 'setcomp', term: first, body: this.parseCompBody('}'), loc: this.loc(t) };
    }
    const items = this.parseMoreItems(() => this.parseTerm(), '}', [first]);
    return { type: 'set', items, loc: this.loc(t) };
  }
}

/**
 * The depth limit counts nesting levels, but the JS stack may run out first (each level is a dozen
 * frames, and the caller's own depth is unknown): a stack overflow while parsing is the same parse error.
 */
function withinStack<T>(maxDepth: number, file: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof RangeError) throw new ParseDepthError(maxDepth, { file });
    throw error;
  }
}

export function parseModule(source: string, file: string, options: ParseOptions = {}): Module {
  const tokens = lex(source, file, options.maxSourceBytes);
  const syntax = options.syntax ?? 'v1';
  const maxDepth = options.maxNestingDepth ?? 512;
  const module = withinStack(maxDepth, file, () => new Parser(tokens, source, file, syntax, maxDepth).parseModule());
  attachAnnotations(module, source, file);
  return module;
}

/** Hangs each METADATA block on the package or the rules on the line below it, with OPA's default scopes. */
function attachAnnotations(module: Module, source: string, file: string): void {
  const blocks = readAnnotationBlocks(source, file);
  if (blocks.length === 0) return;
  const lines = source.split('\n');
  for (const { targetLine, annotations } of blocks) {
    if (/^\s*package\b/.test(lines[targetLine - 1] ?? '')) {
      module.packageAnnotations = { scope: 'package', ...annotations };
      continue;
    }
    for (const rule of module.rules) if (rule.loc.line === targetLine) rule.annotations = { scope: 'rule', ...annotations };
  }
}

/** Parses a query: expressions separated by `;` or newlines. */
export function parseQuery(source: string, file = 'query', options: ParseOptions = {}): Expr[] {
  const tokens = lex(source, file, options.maxSourceBytes);
  const maxDepth = options.maxNestingDepth ?? 512;
  const p = new Parser(tokens, source, file, options.syntax ?? 'v1', maxDepth);
  const exprs: Expr[] = [];
  const self = p as unknown as { tok: Token; skipNewlines(): void };
  self.skipNewlines();
  while (self.tok.kind !== 'eof') {
    exprs.push(withinStack(maxDepth, file, () => p.parseExpr()));
    self.skipNewlines();
  }
  if (exprs.length === 0) throw new RegoError('rego_parse_error', 'empty query', { file, line: 1, column: 1 });
  return exprs;
}
