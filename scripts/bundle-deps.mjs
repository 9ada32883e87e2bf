// Replaces the compiled wrappers of the libraries every command loads at start-up (src/core/yaml.ts for
// `yaml`, src/cli/commander.ts for `commander`; each a plain re-export) with one ES module holding the
// library itself. Both libraries are CommonJS spread over many files: imported from an ES module, Node
// opens each file and scans its source for export names; from one bundled ES module it does neither.
// That takes about 40 ms of CPU off a command that reads a manifest (see bench/cli.ts).
//
// Usage: node scripts/bundle-deps.mjs [outDir] (default dist; the benchmarks pass .bench-dist/src).
// esbuild comes with the dev dependencies (through tsx and vite). Without it the wrappers stay
// re-exports, which work the same and only start slower; the script says so and succeeds.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const OUT_DIR = process.argv[2] ?? 'dist';
/** The wrapper modules (compiled paths under OUT_DIR) and the package each one re-exports. */
const WRAPPERS = [
  { file: join('core', 'yaml.js'), library: 'yaml (ISC licence)' },
  { file: join('cli', 'commander.js'), library: 'commander (MIT licence)' },
];

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn(`bundle-deps: esbuild is not installed; ${WRAPPERS.map((w) => w.file).join(', ')} stay re-exports of their packages (slower start-up)`);
  process.exit(0);
}

for (const { file, library } of WRAPPERS) {
  const target = join(OUT_DIR, file);
  if (!existsSync(target)) {
    console.error(`bundle-deps: ${target} is missing; run tsc first`);
    process.exit(1);
  }
  await esbuild.build({
    entryPoints: [target],
    outfile: target,
    allowOverwrite: true,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
    legalComments: 'eof',
    // The libraries are CommonJS and require Node's built-ins; an ES module has no `require` of its own.
    banner: {
      js: [
        `// Bundled from ${library} by scripts/bundle-deps.mjs; the source is the wrapper's package in node_modules.`,
        "import { createRequire as __confcomCreateRequire } from 'node:module';",
        'const require = __confcomCreateRequire(import.meta.url);',
      ].join('\n'),
    },
  });
  // tsc's map describes the re-export, not the bundle.
  rmSync(`${target}.map`, { force: true });
}
