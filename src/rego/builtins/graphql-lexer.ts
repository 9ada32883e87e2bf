/**
 * A GraphQL lexer that tokenises as gqlparser (vektah/gqlparser, the parser OPA embeds) does, so the
 * parser built on it reports gqlparser's error texts and locations ("Expected Name, found <EOF>").
 */

export type TokenKind =
  | 'Invalid' | 'EOF' | 'Name' | 'Int' | 'Float' | 'String' | 'BlockString'
  | '!' | '$' | '&' | '(' | ')' | '...' | ':' | '=' | '@' | '[' | ']' | '{' | '|' | '}';

export interface Token {
  readonly kind: TokenKind;
  /** The token's value: a name, the number text, or the decoded string. */
  readonly value: string;
  readonly line: number;
  readonly column: number;
}

/** gqlparser's name for a token kind in messages: `Name`, `String`, `<EOF>`, or the punctuator. */
export function kindText(t: Token): string {
  if (t.kind === 'EOF') return '<EOF>';
  if (t.kind === 'Invalid') return '<Invalid>';
  return t.kind;
}

/** gqlparser's Token.String(): the kind, then the value quoted when it has one (`Name "x"`). */
export function tokenText(t: Token): string {
  const valued = t.kind === 'Name' || t.kind === 'Int' || t.kind === 'Float' || t.kind === 'String' || t.kind === 'BlockString';
  return valued && t.value !== '' ? `${t.kind} ${JSON.stringify(t.value)}` : kindText(t);
}

const PUNCT = new Set(['!', '$', '&', '(', ')', ':', '=', '@', '[', ']', '{', '|', '}']);
const NAME_START = /[_A-Za-z]/;
const NAME_CHAR = /[_0-9A-Za-z]/;
/** Sticky, so matching a number never copies the rest of the source. */
const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/** Common indentation removal for block strings (GraphQL spec, BlockStringValue). */
function blockStringValue(raw: string): string {
  const lines = raw.split(/\r\n|[\n\r]/);
  let common: number | undefined;
  for (let i = 1; i < lines.length; i++) {
    const indent = lines[i].length - lines[i].replace(/^[ \t]+/, '').length;
    if (indent < lines[i].length && (common === undefined || indent < common)) common = indent;
  }
  if (common !== undefined) for (let i = 1; i < lines.length; i++) lines[i] = lines[i].slice(common);
  while (lines.length > 0 && /^[ \t]*$/.test(lines[0])) lines.shift();
  while (lines.length > 0 && /^[ \t]*$/.test(lines[lines.length - 1])) lines.pop();
  return lines.join('\n');
}

export class Lexer {
  private pos = 0;
  private line = 1;
  private lineStart = 0;

  constructor(private readonly src: string) {}

  private make(kind: TokenKind, value: string, start: number, line = this.line, lineStart = this.lineStart): Token {
    return { kind, value, line, column: start - lineStart + 1 };
  }

  /** Skips white space, commas, BOM and comments, counting lines. */
  private skipIgnored(): void {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === ' ' || c === '\t' || c === ',' || c === '\uFEFF') this.pos++;
      else if (c === '\n' || c === '\r') {
        this.pos += c === '\r' && s[this.pos + 1] === '\n' ? 2 : 1;
        this.line++;
        this.lineStart = this.pos;
      } else if (c === '#') {
        while (this.pos < s.length && s[this.pos] !== '\n' && s[this.pos] !== '\r') this.pos++;
      } else break;
    }
  }

  next(): Token {
    this.skipIgnored();
    const s = this.src;
    const start = this.pos;
    if (start >= s.length) return this.make('EOF', '', start);
    const c = s[start];
    if (PUNCT.has(c)) {
      this.pos++;
      return this.make(c as TokenKind, c, start);
    }
    if (c === '.') {
      if (s.startsWith('...', start)) {
        this.pos += 3;
        return this.make('...', '...', start);
      }
      return this.invalid(start);
    }
    if (NAME_START.test(c)) {
      let end = start + 1;
      while (end < s.length && NAME_CHAR.test(s[end])) end++;
      this.pos = end;
      return this.make('Name', s.slice(start, end), start);
    }
    if (c === '-' || (c >= '0' && c <= '9')) return this.number(start);
    if (c === '"') return s.startsWith('"""', start) ? this.blockString(start) : this.string(start);
    return this.invalid(start);
  }

  private invalid(start: number): Token {
    this.pos = this.src.length;
    return this.make('Invalid', '', start);
  }

  private number(start: number): Token {
    NUMBER.lastIndex = start;
    const m = NUMBER.exec(this.src);
    if (!m || NAME_START.test(this.src[start + m[0].length] ?? '') || this.src[start + m[0].length] === '.') return this.invalid(start);
    this.pos = start + m[0].length;
    return this.make(m[2] || m[3] ? 'Float' : 'Int', m[0], start);
  }

  private string(start: number): Token {
    const s = this.src;
    let i = start + 1;
    let out = '';
    while (i < s.length) {
      const c = s[i];
      if (c === '"') {
        this.pos = i + 1;
        // gqlparser places a string token after its opening quote(s).
        return this.make('String', out, start + 1);
      }
      if (c === '\n' || c === '\r') break;
      if (c === '\\') {
        const e = s[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && e in simple) {
          out += simple[e];
          i += 2;
          continue;
        }
        const hex = /^u([0-9a-fA-F]{4})/.exec(s.slice(i + 1, i + 6));
        if (!hex) break;
        out += String.fromCharCode(parseInt(hex[1], 16));
        i += 6;
        continue;
      }
      out += c;
      i++;
    }
    return this.invalidAt(i);
  }

  private blockString(start: number): Token {
    const s = this.src;
    const line = this.line;
    const lineStart = this.lineStart;
    let i = start + 3;
    let raw = '';
    while (i < s.length) {
      if (s.startsWith('"""', i)) {
        this.pos = i + 3;
        return this.make('BlockString', blockStringValue(raw), start + 3, line, lineStart);
      }
      if (s.startsWith('\\"""', i)) {
        raw += '"""';
        i += 4;
        continue;
      }
      const c = s[i];
      if (c === '\n' || c === '\r') {
        i += c === '\r' && s[i + 1] === '\n' ? 2 : 1;
        this.line++;
        this.lineStart = i;
        raw += '\n';
        continue;
      }
      raw += c;
      i++;
    }
    return this.invalidAt(i);
  }

  /** An unterminated string: gqlparser reports the Invalid token where lexing stopped. */
  private invalidAt(i: number): Token {
    this.pos = this.src.length;
    return this.make('Invalid', '', i);
  }
}
