/** strings.render_template: Go text/template behaviour beyond the conformance cases. */
import { describe, expect, it } from 'vitest';
import { RegoEngine, RegoError } from '../../src/rego/index.js';

function render(template: string, vars: unknown): string | undefined {
  const engine = new RegoEngine({ strictBuiltinErrors: true });
  engine.addModule('package t\np := strings.render_template(input.t, input.v)\n', 't.rego');
  const v = engine.evalRule('data.t.p', { input: { t: template, v: vars } }).value;
  return typeof v === 'string' ? v : undefined;
}

describe('strings.render_template', () => {
  it('if / else if / else chains and comparisons', () => {
    const t = '{{if eq .n 1}}one{{else if gt .n 5}}many{{else}}few{{end}}';
    expect([1, 3, 9].map((n) => render(t, { n }))).toEqual(['one', 'few', 'many']);
  });

  it('range over maps in key order, range else, with, variables and trimming', () => {
    expect(render('{{range $k, $v := .m}}{{$k}}={{$v}};{{end}}', { m: { b: 2, a: 1 } })).toBe('a=1;b=2;');
    expect(render('{{range .xs}}x{{else}}empty{{end}}', { xs: [] })).toBe('empty');
    expect(render('{{with .user}}{{.name}}{{end}}', { user: { name: 'ann' } })).toBe('ann');
    expect(render('{{$x := .a}}{{$x}}-{{$x}}', { a: 'q' })).toBe('q-q');
    expect(render('a  {{- "b" -}}  c', {})).toBe('abc');
    expect(render('{{/* a comment */}}ok', {})).toBe('ok');
  });

  it('functions and pipes, with Go %v printing of collections', () => {
    expect(render('{{printf "%s has %d" .name (len .items)}}', { name: 'box', items: [1, 2] })).toBe('box has 2');
    expect(render('{{.items | len}}', { items: [1, 2, 3] })).toBe('3');
    expect(render('{{index .items 1}} {{.items}} {{.m}}', { items: ['a', 'b'], m: { k: 'v' } })).toBe('b [a b] map[k:v]');
  });

  it('refuses malformed templates with an error naming the problem', () => {
    expect(() => render('{{if .a}}x', {})).toThrow(RegoError);
    expect(() => render('{{end}}', {})).toThrow(/unexpected \{\{end\}\}/);
    expect(() => render('{{nosuchfn 1}}', {})).toThrow(/not defined/);
  });
});
