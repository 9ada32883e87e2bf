/**
 * Rego lexer: source text to tokens with line/column. Newlines are tokens because they separate the
 * expressions of a body (as `;` does). Template strings `$"...{expr}..."` are lexed as one token with
 * their raw parts; the parser lexes the embedded expressions.
 */
import { RegoError, RegoLimitError } from './errors.js';

export type TokenKind = 'ident' | 'string' | 'rawstring' | 'number' | 'template' | 'op' | 'newline' | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;
  /** For strings: the decoded value. For templates: the raw body between the quotes. */
  value?: string;
  line: number;
  column: number;
  /** Offset in the source (for expression text in traces). */
  offset: number;
  end: number;
}

const OPS = [':=', '==', '!=', '<=', '>=', '{', '}', '[', ']', '(', ')', ',', ';', '.', ':', '=', '<', '>', '+', '-', '*', '/', '%', '&', '|'];

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}
function isIdentPart(c: string): boolean {
  return isIdentStart(c) || (c >= '0' && c <= '9');
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

export function lex(source: string, file: string, maxBytes = 4 * 1024 * 1024): Token[] {
  if (source.length > maxBytes) throw new RegoLimitError(`module ${file} is ${source.length} bytes, over the ${maxBytes}-byte limit`, { file });
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const err = (message: string, at = i): never => {
    throw new RegoError('rego_parse_error', message, { file, line, column: at - lineStart + 1 });
  };
  const push = (kind: TokenKind, start: number, text: string, value?: string, startLine = line, startCol = start - lineStart + 1) => {
    tokens.push({ kind, text, value, line: startLine, column: startCol, offset: start, end: i });
  };
  while (i < source.length) {
    const c = source[i];
    if (c === '\n') {
      i++;
      push('newline', i - 1, '\n');
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (c === '"') {
      i++;
      let out = '';
      while (true) {
        if (i >= source.length || source[i] === '\n') err('non-terminated string', start);
        const ch = source[i];
        if (ch === '"') break;
        if (ch === '\\') {
          const e = source[i + 1];
          i += 2;
          switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
              const hex = source.slice(i, i + 4);
              if (!/^[0-9a-fA-F]{4}$/.test(hex)) err('invalid escape sequence \\u' + hex, i - 2);
              out += String.fromCharCode(parseInt(hex, 16));
              i += 4;
              break;
            }
            default:
              err(`illegal escape sequence \\${e ?? ''}`, i - 2);
          }
          continue;
        }
        out += ch;
        i++;
      }
      i++;
      push('string', start, source.slice(start, i), out);
      continue;
    }
    if (c === '`') {
      const startLine = line;
      const startCol = start - lineStart + 1;
      i++;
      while (i < source.length && source[i] !== '`') {
        if (source[i] === '\n') {
          line++;
          lineStart = i + 1;
        }
        i++;
      }
      if (i >= source.length) err('non-terminated raw string', start);
      i++;
      push('rawstring', start, source.slice(start, i), source.slice(start + 1, i - 1), startLine, startCol);
      continue;
    }
    if (c === '$' && (source[i + 1] === '"' || source[i + 1] === '`')) {
      const quote = source[i + 1];
      const startLine = line;
      const startCol = start - lineStart + 1;
      i += 2;
      let depth = 0;
      while (i < source.length) {
        const ch = source[i];
        if (depth === 0 && ch === quote) break;
        // `\{` escapes a brace in both kinds of template; `"` templates also have string escapes.
        if (ch === '\\' && depth === 0 && (quote === '"' || source[i + 1] === '{')) {
          i += 2;
          continue;
        }
        if (ch === '{') depth++;
        else if (ch === '}') depth = Math.max(0, depth - 1);
        else if (depth > 0 && ch === '"') {
          // a string inside an embedded expression
          i++;
          while (i < source.length && source[i] !== '"') i += source[i] === '\\' ? 2 : 1;
        } else if (ch === '\n') {
          if (quote === '"') err('non-terminated template string', start);
          line++;
          lineStart = i + 1;
        }
        i++;
      }
      if (i >= source.length) err('non-terminated template string', start);
      i++;
      push('template', start, source.slice(start, i), (quote === '`' ? '`' : '"') + source.slice(start + 2, i - 1), startLine, startCol);
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(source[i + 1] ?? ''))) {
      while (isDigit(source[i] ?? '')) i++;
      if (source[i] === '.' && isDigit(source[i + 1] ?? '')) {
        i++;
        while (isDigit(source[i] ?? '')) i++;
      }
      if (source[i] === 'e' || source[i] === 'E') {
        let j = i + 1;
        if (source[j] === '+' || source[j] === '-') j++;
        if (isDigit(source[j] ?? '')) {
          i = j;
          while (isDigit(source[i] ?? '')) i++;
        }
      }
      if (isIdentStart(source[i] ?? '')) err('illegal number format', start);
      push('number', start, source.slice(start, i));
      continue;
    }
    if (isIdentStart(c)) {
      while (i < source.length && isIdentPart(source[i])) i++;
      push('ident', start, source.slice(start, i));
      continue;
    }
    const op = OPS.find((o) => source.startsWith(o, i));
    if (!op) err(`illegal token '${c}'`);
    i += op!.length;
    push('op', start, op!);
  }
  push('eof', i, '');
  return tokens;
}
