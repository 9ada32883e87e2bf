// Copies non-TypeScript assets (Rego rules, JSON settings, sample data, the demo's manifest) from src/ into dist/ (or the
// folder named as the first argument, e.g. the benchmarks' build) so the built modules find them.
// Only files with these endings are copied.
import { cpSync, existsSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { join, dirname, extname } from 'node:path';

const OUT_DIR = process.argv[2] ?? 'dist';
const ASSET_EXTENSIONS = new Set(['.rego', '.json', '.pem', '.toml', '.yaml']);

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (ASSET_EXTENSIONS.has(extname(name))) {
      const target = join(OUT_DIR, path.slice('src/'.length));
      mkdirSync(dirname(target), { recursive: true });
      cpSync(path, target);
    }
  }
}
if (existsSync('src')) walk('src');
