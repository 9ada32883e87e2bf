/**
 * OPA's METADATA annotations: a block of comments starting with `# METADATA` right above a package or
 * a rule, holding YAML (title, description, scope, authors, organizations, related_resources, schemas,
 * entrypoint, custom). Read from the source text after parsing, only when the text mentions METADATA,
 * so ordinary policies pay nothing. `rego.metadata.rule()` and `rego.metadata.chain()` read them.
 */
import { parse as parseYaml } from '../core/yaml.js';
import { RegoError } from './errors.js';
import type { Json } from './value.js';

export type Annotations = { [key: string]: Json };

export interface AnnotationBlock {
  /** 1-based line of the package or rule the block stands above. */
  targetLine: number;
  annotations: Annotations;
}

/** "Name <email>" as OPA splits an author or organization string. */
function person(v: Json): Json {
  if (typeof v !== 'string') return v;
  const m = /^(.*?)\s*<([^>]*)>\s*$/.exec(v);
  return m ? (m[1] ? { name: m[1], email: m[2] } : { email: m[2] }) : { name: v };
}

function normalise(raw: unknown, file: string, line: number): Annotations {
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new RegoError('rego_parse_error', 'METADATA block must be a YAML mapping', { file, line, column: 1 });
  const out: Annotations = { ...(raw as Annotations) };
  if (Array.isArray(out.authors)) out.authors = out.authors.map(person);
  else if (typeof out.authors === 'string') out.authors = [person(out.authors)];
  if (Array.isArray(out.related_resources)) out.related_resources = out.related_resources.map((r) => (typeof r === 'string' ? { ref: r } : r));
  return out;
}

/** Every METADATA block of a module's source with the line it annotates. */
export function readAnnotationBlocks(source: string, file: string): AnnotationBlock[] {
  if (!source.includes('METADATA')) return [];
  const lines = source.split('\n');
  const blocks: AnnotationBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '# METADATA') continue;
    const start = i;
    const yamlLines: string[] = [];
    for (i++; i < lines.length && lines[i].trimStart().startsWith('#'); i++) yamlLines.push(lines[i].trimStart().replace(/^# ?/, ''));
    let raw: unknown;
    try {
      raw = parseYaml(yamlLines.join('\n'));
    } catch (error) {
      throw new RegoError('rego_parse_error', `invalid METADATA YAML: ${(error as Error).message.split('\n')[0]}`, { file, line: start + 1, column: 1 });
    }
    blocks.push({ targetLine: i + 1, annotations: normalise(raw, file, start + 1) });
    i--;
  }
  return blocks;
}
