// Runs every bench/*.ts file in name order (or those named on the command line) and lets each print
// its own figures. A failing benchmark makes the whole run fail. The benchmarks run compiled by tsc
// (into .bench-dist), as users run confcom: under tsx every function gets a name-keeping wrapper that
// costs the closure-heavy Rego evaluator about a third of its speed.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const wanted = process.argv.slice(2);
const files = readdirSync('bench')
  .filter((f) => f.endsWith('.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.bench.json'], { stdio: 'inherit' });
const assets = spawnSync(process.execPath, ['scripts/copy-assets.mjs', '.bench-dist/src'], { stdio: 'inherit' });
// The same single-file yaml and commander as `npm run build` makes, so start-up figures are those of dist.
const bundled = spawnSync(process.execPath, ['scripts/bundle-deps.mjs', '.bench-dist/src'], { stdio: 'inherit' });
if (build.status !== 0 || assets.status !== 0 || bundled.status !== 0) {
  console.error('bench: could not build the benchmarks (tsc -p tsconfig.bench.json)');
  process.exit(1);
}
let failed = 0;
for (const file of files) {
  console.log(`\n=== bench/${file}`);
  const r = spawnSync(process.execPath, [`.bench-dist/bench/${file.replace(/\.ts$/, '.js')}`], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
