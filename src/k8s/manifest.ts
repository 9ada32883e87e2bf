/**
 * Kubernetes manifest streams: multi-document YAML (and `kind: List`) loaded as `yaml` Documents, so
 * that writing annotations back keeps the user's comments, key order and untouched documents.
 *
 * Untouched documents are written back byte for byte (from the parser's token stream); only
 * documents that gained or lost an annotation are re-serialised, and then with their comments.
 * The text is tokenised once: the same tokens give the documents and each document's source text.
 */
import { Composer, CST, LineCounter, Parser, isMap, type Document, type ToStringOptions } from '../core/yaml.js';
import { InputError } from '../core/errors.js';
import { readInputText } from '../core/fs.js';

/** A path inside a document: object keys and array indexes. */
export type NodePath = readonly (string | number)[];

export interface ManifestDocument {
  /** Zero-based index in the stream. */
  index: number;
  doc: Document;
  /** The document as plain JSON (null for an empty document). */
  value: unknown;
  /** The original text of this document (comments, markers and all). */
  source: string;
  changed: boolean;
}

/** One Kubernetes object: a document, or an item of a `List` document. */
export interface Resource {
  file: string;
  document: number;
  /** Where the object sits in its document: [] or ['items', i]. */
  base: NodePath;
  kind: string;
  apiVersion: string;
  name: string;
  namespace?: string;
  value: Record<string, unknown>;
}

export interface ManifestFile {
  file: string;
  text: string;
  documents: ManifestDocument[];
  /** Text after the last document (trailing comments), kept as is. */
  trailer: string;
  /** Long annotation values by the placeholder that stands for them in the documents (see setAnnotation). */
  deferred: Map<string, string>;
}

/**
 * A policy annotation is tens of KiB of base64. The YAML writer scans every scalar several times to
 * choose its style; base64 needs none (it is always a valid plain scalar), so a placeholder goes
 * through the writer instead and the value is put in its place afterwards.
 */
const DEFER_MIN_LENGTH = 1024;
const PLAIN_SAFE = /^[A-Za-z0-9+/][A-Za-z0-9+/=]*$/;
const PLACEHOLDER = /confcom-deferred-[0-9a-f]{12}-\d+/g;
const placeholderSalt = () => Math.floor(Math.random() * 2 ** 48).toString(16).padStart(12, '0');

function deferValue(manifest: ManifestFile, value: string): string {
  if (value.length < DEFER_MIN_LENGTH || !PLAIN_SAFE.test(value)) return value;
  const token = `confcom-deferred-${placeholderSalt()}-${manifest.deferred.size}`;
  manifest.deferred.set(token, value);
  return token;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Formats a node path the way error messages and warnings name fields: `spec.containers[0].env[2]`. */
export function formatPath(path: NodePath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Splits the token stream into one source text per document (leading comments belong to the next document). */
function documentSources(tokens: readonly CST.Token[]): { sources: string[]; trailer: string } {
  const sources: string[] = [];
  let pending = '';
  for (const token of tokens) {
    const piece = CST.stringify(token);
    if (token.type === 'document') {
      sources.push(pending + piece);
      pending = '';
    } else if (token.type === 'doc-end' && sources.length > 0 && pending === '') {
      sources[sources.length - 1] += piece;
    } else {
      pending += piece;
    }
  }
  return { sources, trailer: pending };
}

/** Parses a manifest stream. Every document must be valid YAML; errors name file, document and line. */
export function parseManifest(text: string, file: string): ManifestFile {
  const lines = new LineCounter();
  const tokens = [...new Parser(lines.addNewLine).parse(text)];
  const list = [...new Composer({ uniqueKeys: false }).compose(tokens)];
  const { sources, trailer } = documentSources(tokens);
  const documents = list.map((doc, index): ManifestDocument => {
    const error = doc.errors[0];
    if (error) {
      const at = lines.linePos(error.pos[0]);
      throw new InputError('manifest_bad_yaml', `document ${index} is not valid YAML: ${error.message.split('\n')[0]} at line ${at.line}, column ${at.col}`, {
        location: { file, document: index, line: at.line, column: at.col },
        hint: 'fix the YAML syntax (check indentation and quoting)',
      });
    }
    return { index, doc, value: doc.toJS({ maxAliasCount: 1000 }) as unknown, source: sources[index] ?? String(doc), changed: false };
  });
  return { file, text, documents, trailer: documents.length === sources.length ? trailer : '', deferred: new Map() };
}

export async function loadManifest(file: string): Promise<ManifestFile> {
  return parseManifest(await readInputText(file), file);
}

/** Every Kubernetes object of the stream; `List` documents contribute their items. Empty documents are skipped. */
export function listResources(manifest: ManifestFile): Resource[] {
  const out: Resource[] = [];
  for (const d of manifest.documents) {
    if (d.value === null || d.value === undefined) continue;
    if (!isRecord(d.value)) {
      throw new InputError('manifest_not_object', `document ${d.index} is not a Kubernetes object (a mapping with apiVersion and kind)`, {
        location: { file: manifest.file, document: d.index },
        hint: 'each YAML document must be one Kubernetes object',
      });
    }
    const kind = typeof d.value.kind === 'string' ? d.value.kind : '';
    if (kind === 'List' || (kind.endsWith('List') && Array.isArray(d.value.items))) {
      const items = Array.isArray(d.value.items) ? d.value.items : [];
      items.forEach((item, i) => {
        if (isRecord(item)) out.push(toResource(manifest.file, d.index, ['items', i], item));
      });
      continue;
    }
    out.push(toResource(manifest.file, d.index, [], d.value));
  }
  return out;
}

function toResource(file: string, document: number, base: NodePath, value: Record<string, unknown>): Resource {
  const metadata = isRecord(value.metadata) ? value.metadata : {};
  const name = typeof metadata.name === 'string' ? metadata.name : typeof metadata.generateName === 'string' ? metadata.generateName : '';
  return {
    file,
    document,
    base,
    kind: typeof value.kind === 'string' ? value.kind : '',
    apiVersion: typeof value.apiVersion === 'string' ? value.apiVersion : '',
    name,
    ...(typeof metadata.namespace === 'string' ? { namespace: metadata.namespace } : {}),
    value,
  };
}

/** Reads a value at a path of a resource's document (JSON view). */
export function getAt(value: unknown, path: NodePath): unknown {
  let node = value;
  for (const seg of path) {
    if (typeof seg === 'number') node = Array.isArray(node) ? node[seg] : undefined;
    else node = isRecord(node) ? node[seg] : undefined;
  }
  return node;
}

/**
 * Sets (or, with undefined, deletes) an annotation on the object at `metadataPath` (a path to a
 * `metadata` mapping, relative to the resource). Returns whether the document changed.
 */
export function setAnnotation(manifest: ManifestFile, resource: Resource, metadataPath: NodePath, key: string, value: string | undefined): boolean {
  const d = manifest.documents[resource.document];
  const path = [...resource.base, ...metadataPath, 'annotations'];
  const current = d.doc.getIn(path, false);
  const stored = isMap(current) ? current.get(key) : undefined;
  const existing = typeof stored === 'string' ? (manifest.deferred.get(stored) ?? stored) : stored;
  if (value === undefined) {
    if (existing === undefined) return false;
    d.doc.deleteIn([...path, key]);
    const left = d.doc.getIn(path, false);
    if (isMap(left) && left.items.length === 0) d.doc.deleteIn(path);
  } else {
    if (existing === value) return false;
    d.doc.setIn([...path, key], deferValue(manifest, value));
  }
  d.changed = true;
  setInValue(d, path, key, value);
  return true;
}

/** Mirrors an annotation change in the document's JSON view (cheaper than converting the whole document again). */
function setInValue(d: ManifestDocument, path: NodePath, key: string, value: string | undefined): void {
  let node: unknown = d.value;
  for (const seg of path.slice(0, -1)) node = isRecord(node) || Array.isArray(node) ? (node as Record<string | number, unknown>)[seg] : undefined;
  if (!isRecord(node)) {
    d.value = d.doc.toJS({ maxAliasCount: 1000 }) as unknown;
    return;
  }
  const last = path[path.length - 1] as string;
  const annotations = isRecord(node[last]) ? (node[last] as Record<string, unknown>) : {};
  if (value === undefined) delete annotations[key];
  else annotations[key] = value;
  if (Object.keys(annotations).length === 0) delete node[last];
  else node[last] = annotations;
}

/** Whether the document writes block sequences flush with their parent key (`key:\n- a`), as kubectl does. */
function usesFlushSequences(source: string): boolean {
  return /\n( *)[^\s#-][^\n]*:\s*\n\1- /.test(source);
}

/** The stream as text: untouched documents as they were, changed ones re-serialised with their comments. */
export function serializeManifest(manifest: ManifestFile): string {
  const parts = manifest.documents.map((d) => {
    if (!d.changed) return d.source;
    const options: ToStringOptions = { lineWidth: 0, indentSeq: !usesFlushSequences(d.source) };
    let text = d.doc.toString(options);
    // A document after the first needs its `---` even if the original relied on the previous `...`.
    if (d.index > 0 && !/^(?:\s*#[^\n]*\n|\s*%[^\n]*\n|\s*\n)*---/.test(text)) text = `---\n${text}`;
    return manifest.deferred.size === 0 ? text : text.replace(PLACEHOLDER, (token) => manifest.deferred.get(token) ?? token);
  });
  return parts.join('') + manifest.trailer;
}
