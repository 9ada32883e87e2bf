/**
 * Kubernetes manifest streams: multi-document YAML (and `kind: List`) loaded as `yaml` Documents, so
 * that writing annotations back keeps the user's comments, key order and untouched documents.
 *
 * Untouched documents are written back byte for byte (from the parser's token stream); only
 * documents that gained or lost an annotation are re-serialised, and then with their comments.
 * The text is tokenised once: the same tokens give the documents and each document's source text.
 */
import { Composer, CST, LineCounter, Parser, Scalar, isMap, isScalar, isSeq, type Document, type Node, type Pair, type ToStringOptions, type YAMLMap } from '../core/yaml.js';
import { InputError, yamlAliasBomb, type ErrorLocation } from '../core/errors.js';
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
  /** Where `source` starts in the stream's text (the documents' node ranges count from there). */
  start: number;
  changed: boolean;
  /**
   * The first change as an edit of `source`, when it is a plain one (see annotationEdit): the document
   * is then written as its source with this edit, every other byte kept. Unset after a second change
   * or a complicated one; the document is then re-serialised from `doc`, which has every change.
   */
  edit?: TextEdit;
}

/** Replace source[start, end) (offsets in the stream's text) with `insert`. */
interface TextEdit {
  start: number;
  end: number;
  insert: string;
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
 * choose its style; base64 needs none (it is never escaped), so a placeholder goes through the
 * writer instead and the value is put in its place afterwards (see quoteDeferred).
 */
const DEFER_MIN_LENGTH = 1024;
const PLAIN_SAFE = /^[A-Za-z0-9+/][A-Za-z0-9+/=]*$/;
const PLACEHOLDER = /confcom-deferred-[0-9a-f]{12}-\d+/g;
const placeholderSalt = () => Math.floor(Math.random() * 2 ** 48).toString(16).padStart(12, '0');

/**
 * How a deferred value is written: single-quoted. Any YAML reader gives the same string as for the
 * plain form (base64 has no quote to escape), but `yaml` reads a single-quoted scalar with indexOf and
 * regular expressions, and a plain one a character at a time: for a 90 KB policy annotation that is
 * about 12 ms of CPU in every later `policy hash` or `check` of the file (a tenth of the command).
 */
const quoteDeferred = (value: string): string => `'${value}'`;

/** Whether a value goes through the writer as a placeholder (and may be written in by a text edit). */
const isDeferrable = (value: string): boolean => value.length >= DEFER_MIN_LENGTH && PLAIN_SAFE.test(value);

function deferValue(manifest: ManifestFile, value: string, deferrable = isDeferrable(value)): string {
  if (!deferrable) return value;
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

/**
 * Splits the token stream into one source text per document (leading comments belong to the next
 * document). The parser's top-level tokens cover the text end to end, so each token's text is the
 * slice up to the next token's offset: no need to print the token tree back (CST.stringify).
 */
function documentSources(text: string, tokens: readonly Pick<CST.Token, 'type' | 'offset'>[]): { sources: string[]; starts: number[]; trailer: string } {
  const sources: string[] = [];
  const starts: number[] = [];
  let pending = '';
  for (const [i, token] of tokens.entries()) {
    const piece = text.slice(token.offset, i + 1 < tokens.length ? tokens[i + 1].offset : text.length);
    if (token.type === 'document') {
      starts.push(token.offset - pending.length);
      sources.push(pending + piece);
      pending = '';
    } else if (token.type === 'doc-end' && sources.length > 0 && pending === '') {
      sources[sources.length - 1] += piece;
    } else {
      pending += piece;
    }
  }
  return { sources, starts, trailer: pending };
}

function* recordTokens(tokens: Iterable<CST.Token>, into: Pick<CST.Token, 'type' | 'offset'>[]): Generator<CST.Token> {
  for (const token of tokens) {
    into.push({ type: token.type, offset: token.offset });
    yield token;
  }
}

/** The document's JSON view; an alias bomb is refused naming the file and document. */
function documentValue(doc: Document, location: ErrorLocation): unknown {
  try {
    return doc.toJS({ maxAliasCount: 1000 }) as unknown;
  } catch (error) {
    throw yamlAliasBomb(error, location) ?? error;
  }
}

/** Parses a manifest stream. Every document must be valid YAML; errors name file, document and line. */
export function parseManifest(text: string, file: string): ManifestFile {
  const lines = new LineCounter();
  // The token trees go straight to the composer and are garbage once their document is built: kept
  // in an array until the end they would survive every young-generation collection of the parse
  // (the parser allocates hundreds of bytes per input byte). Only each token's type and offset stay.
  const tokens: Pick<CST.Token, 'type' | 'offset'>[] = [];
  const list = [...new Composer({ uniqueKeys: false }).compose(recordTokens(new Parser(lines.addNewLine).parse(text), tokens))];
  const { sources, starts, trailer } = documentSources(text, tokens);
  const documents = list.map((doc, index): ManifestDocument => {
    const error = doc.errors[0];
    if (error) {
      const at = lines.linePos(error.pos[0]);
      throw new InputError('manifest_bad_yaml', `document ${index} is not valid YAML: ${error.message.split('\n')[0]} at line ${at.line}, column ${at.col}`, {
        location: { file, document: index, line: at.line, column: at.col },
        hint: 'fix the YAML syntax (check indentation and quoting)',
      });
    }
    return { index, doc, value: documentValue(doc, { file, document: index }), source: sources[index] ?? String(doc), start: starts[index] ?? 0, changed: false };
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
    // The edit is read off the document as parsed, so before the change (and only for a first change).
    const deferrable = isDeferrable(value);
    const edit = d.changed || !deferrable ? undefined : annotationEdit(manifest.text, d.doc, path, key, value);
    d.doc.setIn([...path, key], deferValue(manifest, value, deferrable));
    d.edit = edit;
    d.changed = true;
    setInValue(d, path, key, value);
    return true;
  }
  d.edit = undefined;
  d.changed = true;
  setInValue(d, path, key, value);
  return true;
}

/**
 * Setting one annotation is, in most manifests, one line of text: the value replaced, or a
 * `key: value` line (with `annotations:` above it if need be) after the last line of the mapping. Such
 * an edit keeps every other byte of the document, and costs nothing next to serialising it again (the
 * YAML writer was a sixth of `policy generate`). Only the plain cases are taken: block mappings, a
 * value that needs no quoting (a deferrable one, checked by the caller), a key that needs none, a last entry that ends in a
 * scalar or a flow collection with at most a comment after it, spaces for indentation. Anything
 * else (flow mappings, block scalars, tags, anchors, tabs) is left to the YAML writer.
 */
function annotationEdit(text: string, doc: Document, path: NodePath, key: string, value: string): TextEdit | undefined {
  if (!PLAIN_KEY.test(key)) return undefined;
  const annotations = doc.getIn(path, true);
  if (isMap(annotations)) {
    const pair = annotations.items.find((p) => isScalar(p.key) && p.key.value === key);
    if (!pair) return appendEntry(text, annotations, (indent, eol) => `${eol}${indent}${key}: ${quoteDeferred(value)}`);
    const old = pair.value;
    if (!isScalar(old) || !old.range || !INLINE_SCALARS.has(old.type ?? '') || old.anchor || old.tag) return undefined;
    return { start: old.range[0], end: old.range[1], insert: quoteDeferred(value) };
  }
  if (annotations !== undefined) return undefined;
  const metadata = doc.getIn(path.slice(0, -1), true);
  if (!isMap(metadata)) return undefined;
  return appendEntry(text, metadata, (indent, eol) => `${eol}${indent}annotations:${eol}${indent}  ${key}: ${quoteDeferred(value)}`);
}

const PLAIN_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
const INLINE_SCALARS = new Set<string>([Scalar.PLAIN, Scalar.QUOTE_DOUBLE, Scalar.QUOTE_SINGLE]);

/** An entry after the last one of a block mapping, at the column of its first key; undefined when that is not plain. */
function appendEntry(text: string, map: YAMLMap, entry: (indent: string, eol: string) => string): TextEdit | undefined {
  if (map.flow || map.items.length === 0 || map.anchor || map.tag) return undefined;
  const first = map.items[0].key;
  if (!isScalar(first) || !first.range) return undefined;
  const keyStart = first.range[0];
  const lineStart = text.lastIndexOf('\n', keyStart - 1) + 1;
  // A mapping that is a sequence item starts after `- `; its entries line up under its first key.
  if (!/^[ -]*$/.test(text.slice(lineStart, keyStart))) return undefined;
  const end = lastContentEnd(map);
  if (end === undefined) return undefined;
  let at = text.indexOf('\n', end);
  if (at < 0) at = text.length;
  const crlf = at > 0 && text[at - 1] === '\r';
  if (crlf) at -= 1;
  if (!/^[ ]*(#.*)?$/.test(text.slice(end, at))) return undefined;
  return { start: at, end: at, insert: entry(' '.repeat(keyStart - lineStart), crlf ? '\r\n' : '\n') };
}

/** Where the last entry of a block mapping ends: its value's last scalar or flow collection, nested block collections followed down. */
function lastContentEnd(node: Node | Pair | null | undefined): number | undefined {
  if (node === null || node === undefined) return undefined;
  if (isScalar(node)) return node.range && INLINE_SCALARS.has(node.type ?? '') ? node.range[1] : undefined;
  if (isMap(node) || isSeq(node)) {
    if (node.flow) return node.range?.[1];
    return lastContentEnd(node.items[node.items.length - 1] as Node | Pair | undefined);
  }
  if ('key' in node) return lastContentEnd((node.value ?? undefined) as Node | undefined);
  return undefined;
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
    if (d.edit) return d.source.slice(0, d.edit.start - d.start) + d.edit.insert + d.source.slice(d.edit.end - d.start);
    const options: ToStringOptions = { lineWidth: 0, indentSeq: !usesFlushSequences(d.source) };
    let text = d.doc.toString(options);
    // A document after the first needs its `---` even if the original relied on the previous `...`.
    if (d.index > 0 && !/^(?:\s*#[^\n]*\n|\s*%[^\n]*\n|\s*\n)*---/.test(text)) text = `---\n${text}`;
    return manifest.deferred.size === 0 ? text : text.replace(PLACEHOLDER, (token) => {
      const value = manifest.deferred.get(token);
      return value === undefined ? token : quoteDeferred(value);
    });
  });
  return parts.join('') + manifest.trailer;
}
