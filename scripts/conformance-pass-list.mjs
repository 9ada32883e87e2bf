// Regenerates test/rego/conformance-pass.txt: the notes of every OPA conformance case that passes now.
// Run after improving the engine; the test suite then fails if any listed case regresses.
//
// The list only grows. A listed case that no longer passes is not dropped silently: the script stops
// and names it, unless it is named on the command line with --drop (its note, its folder/file#index,
// or the full tab-separated line), which records a deliberate removal.
//
//   node scripts/conformance-pass-list.mjs [conformance-dir] [--drop <case>]...
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const LIST = 'test/rego/conformance-pass.txt';
const args = process.argv.slice(2);
const drops = [];
let dir = '../shared/opa-conformance/v1';
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--drop') {
    if (args[i + 1] === undefined) {
      process.stderr.write('--drop needs a case: its note, folder/file#index, or the full line\n');
      process.exit(2);
    }
    drops.push(args[++i]);
  } else dir = args[i];
}

const script = `
import { runConformance } from './src/rego/conformance.ts';
import { defaultSkipList } from './src/cli/rego.ts';
const r = runConformance(${JSON.stringify(dir)}, { skip: defaultSkipList() });
process.stdout.write(JSON.stringify(r.filter((x) => x.status === 'passed').map((x) => x.folder + '\\t' + x.file + '\\t' + x.index + '\\t' + x.note)));
`;
const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 26 });
if (out.status !== 0) {
  process.stderr.write(out.stderr);
  process.exit(1);
}
const passed = new Set(JSON.parse(out.stdout));

/** Does a --drop argument name this list line? */
const names = (line, arg) => {
  const [folder, file, index, note] = line.split('\t');
  return arg === line || arg === note || arg === `${folder}/${file}#${index}`;
};
const previous = existsSync(LIST) ? readFileSync(LIST, 'utf8').split('\n').filter((l) => l !== '') : [];
const lost = previous.filter((line) => !passed.has(line));
const refused = lost.filter((line) => !drops.some((arg) => names(line, arg)));
if (refused.length > 0) {
  process.stderr.write(`${refused.length} listed case(s) no longer pass; the list was not changed:\n`);
  for (const line of refused) process.stderr.write(`  ${line.split('\t').slice(0, 3).join('/')}  ${line.split('\t')[3]}\n`);
  process.stderr.write('Fix the regression, or drop a case deliberately with --drop <note | folder/file#index>.\n');
  process.exit(1);
}
const unused = drops.filter((arg) => !lost.some((line) => names(line, arg)));
if (unused.length > 0) {
  process.stderr.write(`--drop names no lost case: ${unused.join(', ')}\n`);
  process.exit(2);
}
const list = [...passed].sort();
writeFileSync(LIST, list.join('\n') + '\n');
console.log(`${list.length} passing cases written to ${LIST} (${list.length - previous.length + lost.length} new, ${lost.length} dropped by name)`);
