// Regenerates test/rego/conformance-pass.txt: the notes of every OPA conformance case that passes now.
// Run after improving the engine; the test suite then fails if any listed case regresses.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const dir = process.argv[2] ?? '../shared/opa-conformance/v1';
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
const passed = [...new Set(JSON.parse(out.stdout))].sort();
writeFileSync('test/rego/conformance-pass.txt', passed.join('\n') + '\n');
console.log(`${passed.length} passing cases written to test/rego/conformance-pass.txt`);
