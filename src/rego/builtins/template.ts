/**
 * Rego builtin strings.render_template: Go's text/template, the part policies use: text and
 * `{{ }}` actions with `{{-`/`-}}` trimming and `{{/* comments *\/}}`; pipelines of `.field.path`,
 * `$var`, `.`, string/number/bool literals and functions (`printf`, `print`, `len`, `index`, `eq`,
 * `ne`, `lt`, `le`, `gt`, `ge`, `and`, `or`, `not`) with `|` chaining; `if`/`else if`/`else`, `range`
 * (with `$i, $v :=` and `else`), `with`, `end`; variables declared with `:=` and set with `=`. A key
 * missing from the variables renders `<undefined>`, as OPA's does. Values print as Go's %v does.
 */
import { BuiltinError } from '../errors.js';
import { toJson, type Json } from '../value.js';
import { expectString, operandTypeError, type BuiltinTable } from './registry.js';
import { RObject } from '../value.js';

const MISSING = Symbol('missing');
type TValue = Json | typeof MISSING;

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'print'; pipe: string }
  | { kind: 'if' | 'with'; pipe: string; then: Node[]; else: Node[] }
  | RangeNode;
type RangeNode = { kind: 'range'; pipe: string; vars: string[]; body: Node[]; else: Node[] };

const fail = (message: string): never => {
  throw new BuiltinError(`strings.render_template: template: ${message}`);
};

/** Splits the template into text and action source, applying `{{-` and `-}}` trimming. */
function lex(src: string): ({ text: string } | { action: string })[] {
  const out: ({ text: string } | { action: string })[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push({ text: src.slice(i) });
      break;
    }
    let text = src.slice(i, open);
    let start = open + 2;
    if (src.startsWith('- ', start) || src.startsWith('-\t', start) || src.startsWith('-\n', start)) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    if (text) out.push({ text });
    const close = src.indexOf('}}', start);
    if (close < 0) fail('unclosed action');
    let end = close;
    let next = close + 2;
    if (/\s-$/.test(src.slice(start, close))) {
      end = close - 1;
      const m = /^\s*/.exec(src.slice(next)) as RegExpExecArray;
      next += m[0].length;
    }
    const action = src.slice(start, end).trim();
    if (!(action.startsWith('/*') && action.endsWith('*/'))) out.push({ action });
    i = next;
  }
  return out;
}

function parse(src: string): Node[] {
  const items = lex(src);
  let pos = 0;
  /** if/with/range up to its end; an `else if` chain is a nested if that shares the end. */
  const control = (kw: string, rest: string): Node => {
    const body = block(['end', 'else']);
    let elseNodes: Node[] = [];
    if (body.stop === 'else') {
      const elseAction = (items[pos++] as { action: string }).action.replace(/^else\s*/, '');
      const chained = /^(if|with)\b\s*(.*)$/s.exec(elseAction);
      elseNodes = chained ? [control(chained[1], chained[2])] : block(['end']).nodes;
    }
    if (kw === 'range') {
      const m = /^(\$\w*)(?:\s*,\s*(\$\w*))?\s*:=\s*(.*)$/s.exec(rest);
      return { kind: 'range', vars: m ? [m[1], m[2]].filter((v): v is string => v !== undefined) : [], pipe: m ? m[3] : rest, body: body.nodes, else: elseNodes };
    }
    return { kind: kw as 'if' | 'with', pipe: rest, then: body.nodes, else: elseNodes };
  };
  const block = (stops: string[]): { nodes: Node[]; stop: string } => {
    const nodes: Node[] = [];
    while (pos < items.length) {
      const item = items[pos++];
      if ('text' in item) {
        nodes.push({ kind: 'text', text: item.text });
        continue;
      }
      const a = item.action;
      const word = /^(if|range|with|else|end)\b\s*(.*)$/s.exec(a);
      if (!word) {
        nodes.push({ kind: 'print', pipe: a });
        continue;
      }
      const [, kw, rest] = word;
      if (kw === 'end' || kw === 'else') {
        if (!stops.includes(kw)) fail(`unexpected {{${kw}}}`);
        if (kw === 'else') pos--; // the control structure reads the else (and a chained "else if")
        return { nodes, stop: kw };
      }
      nodes.push(control(kw, rest));
    }
    if (stops.length > 0) fail('unexpected EOF');
    return { nodes, stop: '' };
  };
  return block([]).nodes;
}

/** Go's %v of a value converted from Rego (OPA hands the template plain JSON-like values). */
function show(v: TValue): string {
  if (v === MISSING) return '<undefined>';
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return '[' + v.map(show).join(' ') + ']';
  if (typeof v === 'object') return 'map[' + Object.keys(v).sort().map((k) => `${k}:${show(v[k])}`).join(' ') + ']';
  return String(v);
}

function truthy(v: TValue): boolean {
  if (v === MISSING || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** Go's fmt verbs for printf: %v %s %d %q %t %f and %%. */
function printf(format: string, args: TValue[]): string {
  let n = 0;
  return format.replace(/%([-+ 0#]*\d*(?:\.\d+)?)([vsdqtfx%])/g, (_m, flags: string, verb: string) => {
    if (verb === '%') return '%';
    const a = args[n++];
    if (a === undefined) return `%!${verb}(MISSING)`;
    const prec = /\.(\d+)/.exec(flags);
    if (verb === 'q') return JSON.stringify(show(a));
    if (verb === 'f' && typeof a === 'number') return a.toFixed(prec ? Number(prec[1]) : 6);
    if (verb === 'x' && typeof a === 'number') return a.toString(16);
    return show(a);
  });
}

function tokens(pipe: string): string[] {
  const out = pipe.match(/"(?:[^"\\]|\\.)*"|`[^`]*`|\(|\)|\||[^\s()|]+/g);
  return out ?? [];
}

class Renderer {
  private readonly vars: Map<string, TValue>[] = [];
  private steps = 0;

  constructor(private readonly root: Json) {
    this.vars.push(new Map([['$', root]]));
  }

  private lookupVar(name: string): TValue {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].has(name)) return this.vars[i].get(name) as TValue;
    return fail(`undefined variable "${name}"`);
  }

  private field(base: TValue, path: string[]): TValue {
    let cur = base;
    for (const key of path) {
      if (key === '') continue;
      if (cur === MISSING || cur === null || typeof cur !== 'object' || Array.isArray(cur)) return MISSING;
      cur = key in cur ? cur[key] : MISSING;
    }
    return cur;
  }

  /** Evaluates one pipeline: commands separated by `|`, each a value or a function call. */
  pipeline(src: string, dot: TValue): TValue {
    const toks = tokens(src);
    if (toks.length >= 2 && toks[0].startsWith('$') && (toks[1] === ':=' || toks[1] === '=')) {
      this.vars[this.vars.length - 1].set(toks[0], this.pipelineTokens(toks.slice(2), dot));
      return MISSING_PRINTS_NOTHING;
    }
    return this.pipelineTokens(toks, dot);
  }

  private pipelineTokens(toks: string[], dot: TValue): TValue {
    let result: TValue | undefined;
    let cmd: (string | TValue[])[] = [];
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (t === '|') {
        result = this.command(cmd, dot, result);
        cmd = [];
      } else if (t === '(') {
        // A parenthesised pipeline is one argument.
        let depth = 1;
        let j = i + 1;
        for (; j < toks.length && depth > 0; j++) depth += toks[j] === '(' ? 1 : toks[j] === ')' ? -1 : 0;
        if (depth !== 0) fail('unclosed left paren');
        cmd.push([this.pipelineTokens(toks.slice(i + 1, j - 1), dot)]);
        i = j - 1;
      } else if (t === ')') fail('unexpected right paren');
      else cmd.push(t);
    }
    return this.command(cmd, dot, result);
  }

  private operand(tok: string, dot: TValue): TValue {
    if (tok === '.') return dot;
    if (tok.startsWith('.')) return this.field(dot, tok.slice(1).split('.'));
    if (tok.startsWith('$')) {
      const [name, ...path] = tok.split('.');
      return this.field(this.lookupVar(name), path);
    }
    if (tok.startsWith('"')) return JSON.parse(tok) as string;
    if (tok.startsWith('`')) return tok.slice(1, -1);
    if (tok === 'true' || tok === 'false') return tok === 'true';
    if (tok === 'nil') return null;
    if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(tok)) return Number(tok);
    return fail(`function "${tok}" not defined`);
  }

  /** One command: a function call (arguments, then the piped value last) or a single value. */
  private command(cmd: (string | TValue[])[], dot: TValue, piped: TValue | undefined): TValue {
    if (++this.steps > 100_000) fail('too many steps');
    if (cmd.length === 0) fail('missing value for command');
    const [head, ...rest] = cmd;
    const value = (t: string | TValue[]) => (typeof t === 'string' ? this.operand(t, dot) : t[0]);
    const fn = typeof head === 'string' ? FUNCTIONS[head] : undefined;
    if (!fn) {
      if (typeof head === 'string' && /^[A-Za-z_]\w*$/.test(head) && !['true', 'false', 'nil'].includes(head)) fail(`function "${head}" not defined`);
      if (rest.length > 0 || piped !== undefined) fail(`can't give argument to non-function ${typeof head === 'string' ? head : show(head[0])}`);
      return value(head);
    }
    const args = rest.map(value);
    if (piped !== undefined) args.push(piped);
    return fn(args);
  }

  private renderRange(n: RangeNode, dot: TValue): string {
    const v = this.pipeline(n.pipe, dot);
    let entries: [TValue, TValue][] = [];
    if (Array.isArray(v)) entries = v.map((x, i) => [i, x]);
    else if (v !== MISSING && v !== null && typeof v === 'object') entries = Object.keys(v).sort().map((k) => [k, v[k]]);
    if (entries.length === 0) return this.render(n.else, dot);
    let out = '';
    for (const [k, x] of entries) {
      const scope = new Map<string, TValue>();
      if (n.vars.length === 1) scope.set(n.vars[0], x);
      if (n.vars.length === 2) scope.set(n.vars[0], k).set(n.vars[1], x);
      this.vars.push(scope);
      out += this.render(n.body, x);
      this.vars.pop();
    }
    return out;
  }

  render(nodes: Node[], dot: TValue): string {
    let out = '';
    for (const n of nodes) {
      if (n.kind === 'text') out += n.text;
      else if (n.kind === 'print') {
        const v = this.pipeline(n.pipe, dot);
        if (v !== MISSING_PRINTS_NOTHING) out += show(v);
      } else if (n.kind === 'if' || n.kind === 'with') {
        const v = this.pipeline(n.pipe, dot);
        this.vars.push(new Map());
        out += truthy(v) ? this.render(n.then, n.kind === 'with' ? v : dot) : this.render(n.else, dot);
        this.vars.pop();
      } else if (n.kind === 'range') out += this.renderRange(n, dot);
    }
    return out;
  }
}

/** A variable declaration prints nothing. */
const MISSING_PRINTS_NOTHING = Symbol('declaration') as unknown as TValue;

const compare = (name: string, test: (c: number) => boolean) => (args: TValue[]): TValue => {
  const [a, b] = args;
  if (typeof a === 'number' && typeof b === 'number') return test(a - b);
  if (typeof a === 'string' && typeof b === 'string') return test(a < b ? -1 : a > b ? 1 : 0);
  return fail(`error calling ${name}: incompatible types for comparison`);
};

const FUNCTIONS: Record<string, (args: TValue[]) => TValue> = {
  printf: ([format, ...rest]) => printf(typeof format === 'string' ? format : show(format), rest),
  print: (args) => args.map(show).join(''),
  println: (args) => args.map(show).join(' ') + '\n',
  len: ([v]) => (typeof v === 'string' ? Array.from(v).length : Array.isArray(v) ? v.length : v !== null && typeof v === 'object' ? Object.keys(v).length : fail(`error calling len: len of ${show(v)}`)),
  index: ([v, ...keys]) => keys.reduce<TValue>((cur, k) => (Array.isArray(cur) && typeof k === 'number' ? (cur[k] ?? fail(`error calling index: index out of range: ${k}`)) : cur !== null && typeof cur === 'object' && !Array.isArray(cur) && typeof k === 'string' ? (cur[k] ?? MISSING) : MISSING), v),
  eq: ([a, ...rest]) => rest.some((b) => JSON.stringify(a) === JSON.stringify(b)),
  ne: ([a, b]) => JSON.stringify(a) !== JSON.stringify(b),
  lt: compare('lt', (c) => c < 0),
  le: compare('le', (c) => c <= 0),
  gt: compare('gt', (c) => c > 0),
  ge: compare('ge', (c) => c >= 0),
  and: (args) => args.find((a) => !truthy(a)) ?? args[args.length - 1],
  or: (args) => args.find((a) => truthy(a)) ?? args[args.length - 1],
  not: ([a]) => !truthy(a),
};

export const builtins: BuiltinTable = {
  'strings.render_template': {
    arity: 2,
    fn: (args) => {
      const template = expectString('strings.render_template', args, 0);
      const vars = args[1];
      if (!(vars instanceof RObject)) throw operandTypeError('strings.render_template', 2, ['object'], vars);
      return new Renderer(toJson(vars)).render(parse(template), toJson(vars));
    },
  },
};
