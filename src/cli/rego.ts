/** `confcom rego eval | conformance`: the Rego engine from the command line. */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InputError } from '../core/errors.js';
import { readInputText } from '../core/fs.js';
import { RegoEngine } from '../rego/index.js';
import { runConformance, type SkipEntry } from '../rego/conformance.js';
import { serializeJson, RObject, type Value } from '../rego/value.js';
import { parseJsonText } from '../rego/json.js';
import { parseQuery } from '../rego/parser.js';
import type { Term } from '../rego/ast.js';
import { printLine } from './context.js';

const RESULT_VAR = '__confcom_result__';
const COMPARISONS = new Set(['equal', 'neq', 'lt', 'lte', 'gt', 'gte', 'internal.member_2', 'internal.member_3']);

/** Comparison calls are boolean expressions: their value is true when they hold, as in OPA's output. */
function isComparison(t: Term): boolean {
  return t.type === 'call' && COMPARISONS.has(t.fn.join('.'));
}

/** The skip list shipped with confcom: folders whose builtins need the network or an external system. */
export function defaultSkipList(): SkipEntry[] {
  const file = fileURLToPath(new URL('../rego/conformance-skip.json', import.meta.url));
  return (JSON.parse(readFileSync(file, 'utf8')) as { skip: SkipEntry[] }).skip;
}

export function registerRego(program: Command): void {
  const group = program.command('rego').description('evaluate Rego queries and run OPA conformance cases');

  group
    .command('eval')
    .description('evaluate a query like `opa eval` and print OPA-style JSON results')
    .argument('<query>', 'the Rego query, e.g. data.example.allow')
    .option('-d, --data <file>', 'a Rego module (.rego) or JSON data file (.json); repeat for more', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('-i, --input <file>', 'input document (JSON)')
    .option('--v0', 'parse modules with Rego v0 syntax')
    .option('--strict-builtin-errors', 'raise builtin errors instead of treating them as undefined')
    .action(async (query: string, flags: { data?: string[]; input?: string; v0?: boolean; strictBuiltinErrors?: boolean }) => {
      const engine = new RegoEngine({ strictBuiltinErrors: flags.strictBuiltinErrors === true });
      let data: Value = new RObject();
      for (const file of flags.data ?? []) {
        const text = await readInputText(file);
        if (file.endsWith('.json')) {
          try {
            const parsed = parseJsonText(text);
            data = parsed instanceof RObject && data instanceof RObject ? new RObject([...data.entries(), ...parsed.entries()]) : parsed;
          } catch (error) {
            throw new InputError('data_bad_json', `${file} is not valid JSON: ${(error as Error).message}`, { location: { file } });
          }
        } else engine.addModule(text, file, { syntax: flags.v0 ? 'v0' : 'v1' });
      }
      engine.setData(data);
      let input: Value | undefined;
      if (flags.input) {
        try {
          input = parseJsonText(await readInputText(flags.input));
        } catch (error) {
          if (error instanceof InputError) throw error;
          throw new InputError('input_bad_json', `${flags.input} is not valid JSON: ${(error as Error).message}`, { location: { file: flags.input } });
        }
      }
      // A query that is one plain term reports the term's value (as `opa eval` does); others report true.
      const body = parseQuery(query);
      const single = body.length === 1 && body[0].kind === 'term' && body[0].with.length === 0 && !isComparison(body[0].term);
      const result = engine.evalQuery(single ? `${RESULT_VAR} = ${query}` : query, input === undefined ? {} : { input });
      for (const line of result.prints) process.stderr.write(line + '\n');
      const rows = result.value
        .filter((row) => !single || row[RESULT_VAR] !== false)
        .map((row) => {
          const value = single ? row[RESULT_VAR] : true;
          const bindings = RObject.fromRecord(Object.fromEntries(Object.entries(row).filter(([k]) => k !== RESULT_VAR)));
          const expression = `{"value":${serializeJson(value)},"text":${JSON.stringify(query)},"location":{"row":1,"col":1}}`;
          return `{"expressions":[${expression}]${bindings.size ? `,"bindings":${serializeJson(bindings)}` : ''}}`;
        });
      printLine(rows.length ? `{"result":[${rows.join(',')}]}` : '{}');
    });

  group
    .command('conformance')
    .description('run OPA-format conformance cases; ends with `N passed, N failed, N skipped`')
    .argument('<dir>', 'folder of case folders, e.g. ../shared/opa-conformance/v1')
    .option('--filter <text>', 'only folders whose name contains this text')
    .option('--failures', 'list every failing case with its reason')
    .action((dir: string, flags: { filter?: string; failures?: boolean }) => {
      const results = runConformance(dir, { filter: flags.filter, skip: defaultSkipList() });
      const byFolder = new Map<string, { passed: number; failed: number; skipped: number }>();
      for (const r of results) {
        const row = byFolder.get(r.folder) ?? { passed: 0, failed: 0, skipped: 0 };
        row[r.status]++;
        byFolder.set(r.folder, row);
      }
      printLine(`${'folder'.padEnd(40)} passed failed skipped`);
      for (const [folder, row] of byFolder) printLine(`${folder.padEnd(40)} ${String(row.passed).padStart(6)} ${String(row.failed).padStart(6)} ${String(row.skipped).padStart(7)}`);
      if (flags.failures) for (const r of results.filter((x) => x.status === 'failed')) printLine(`FAIL ${r.note}: ${r.reason}`);
      const count = (s: string) => results.filter((r) => r.status === s).length;
      printLine(`${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped`);
      if (count('failed') > 0) process.exitCode = 1;
    });
}
