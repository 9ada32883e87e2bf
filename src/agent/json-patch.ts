/**
 * RFC 6902 JSON Patch over plain JSON, used for the policy state (`data.pstate`) that `{allowed, ops}`
 * results update. Applied to a copy: a failing operation leaves the original untouched, so a bad
 * patch can never leave the state half-updated.
 */
import type { Json } from '../rego/value.js';
import { isUnsafeSegment } from '../rego/safe-path.js';

export interface PatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

export class JsonPatchError extends Error {
  constructor(
    message: string,
    readonly operationIndex: number,
  ) {
    super(`JSON patch operation ${operationIndex}: ${message}`);
  }
}

function parsePointer(pointer: string, index: number): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new JsonPatchError(`path '${pointer}' must start with '/'`, index);
  const tokens = pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  // The documents here are plain objects: `__proto__` (and friends) would reach Object.prototype.
  const bad = tokens.find(isUnsafeSegment);
  if (bad !== undefined) throw new JsonPatchError(`path '${pointer}' has the refused segment '${bad}'`, index);
  return tokens;
}

/** An own property of a JSON object (never one inherited from Object.prototype). */
function own(node: { [key: string]: Json }, key: string): Json | undefined {
  return Object.hasOwn(node, key) ? node[key] : undefined;
}

/** Sets an own property, even one named like an Object.prototype member, without invoking a setter. */
function setOwn(node: { [key: string]: Json }, key: string, value: Json): void {
  Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
}

type Container = Json[] | { [key: string]: Json };

function isContainer(v: Json | undefined): v is Container {
  return typeof v === 'object' && v !== null;
}

function arrayIndex(token: string, length: number, allowEnd: boolean, index: number): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new JsonPatchError(`'${token}' is not an array index`, index);
  const n = Number(token);
  if (n > length || (!allowEnd && n === length)) throw new JsonPatchError(`array index ${n} out of range`, index);
  return n;
}

function resolveParent(doc: Json, tokens: string[], index: number): Container {
  let node: Json = doc;
  for (const token of tokens.slice(0, -1)) {
    if (!isContainer(node)) throw new JsonPatchError(`cannot descend into a ${typeof node} at '${token}'`, index);
    const next: Json | undefined = Array.isArray(node) ? node[arrayIndex(token, node.length, false, index)] : own(node, token);
    if (next === undefined) throw new JsonPatchError(`path segment '${token}' does not exist`, index);
    node = next;
  }
  if (!isContainer(node)) throw new JsonPatchError('parent is not an object or array', index);
  return node;
}

function getAt(doc: Json, tokens: string[], index: number): Json {
  if (tokens.length === 0) return doc;
  const parent = resolveParent(doc, tokens, index);
  const last = tokens[tokens.length - 1];
  const v = Array.isArray(parent) ? parent[arrayIndex(last, parent.length, false, index)] : own(parent, last);
  if (v === undefined) throw new JsonPatchError(`path '/${tokens.join('/')}' does not exist`, index);
  return v;
}

function removeAt(doc: Json, tokens: string[], index: number): Json {
  const parent = resolveParent(doc, tokens, index);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) return parent.splice(arrayIndex(last, parent.length, false, index), 1)[0];
  if (!Object.hasOwn(parent, last)) throw new JsonPatchError(`path '/${tokens.join('/')}' does not exist`, index);
  const v = parent[last];
  delete parent[last];
  return v;
}

function addAt(doc: Json, tokens: string[], value: Json, index: number, replace: boolean): Json {
  if (tokens.length === 0) return value;
  const parent = resolveParent(doc, tokens, index);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) {
    const i = arrayIndex(last, parent.length, !replace, index);
    if (replace) parent[i] = value;
    else parent.splice(i, 0, value);
  } else {
    if (replace && !Object.hasOwn(parent, last)) throw new JsonPatchError(`path '/${tokens.join('/')}' does not exist`, index);
    setOwn(parent, last, value);
  }
  return doc;
}

/** Returns the patched copy of `doc`; throws JsonPatchError (and changes nothing) on a bad operation. */
export function applyJsonPatch(doc: Json, ops: readonly PatchOperation[]): Json {
  let out: Json = structuredClone(doc);
  ops.forEach((op, index) => {
    const tokens = parsePointer(op.path, index);
    switch (op.op) {
      case 'add':
      case 'replace':
        if (op.value === undefined) throw new JsonPatchError(`'${op.op}' needs a value`, index);
        out = addAt(out, tokens, structuredClone(op.value) as Json, index, op.op === 'replace');
        break;
      case 'remove':
        if (tokens.length === 0) throw new JsonPatchError('cannot remove the whole document', index);
        removeAt(out, tokens, index);
        break;
      case 'move':
      case 'copy': {
        if (op.from === undefined) throw new JsonPatchError(`'${op.op}' needs 'from'`, index);
        const fromTokens = parsePointer(op.from, index);
        const value = op.op === 'move' ? removeAt(out, fromTokens, index) : structuredClone(getAt(out, fromTokens, index));
        out = addAt(out, tokens, value, index, false);
        break;
      }
      case 'test':
        if (JSON.stringify(getAt(out, tokens, index)) !== JSON.stringify(op.value)) {
          throw new JsonPatchError(`test failed at '${op.path}'`, index);
        }
        break;
      default:
        throw new JsonPatchError(`unknown operation '${String((op as { op: unknown }).op)}'`, index);
    }
  });
  return out;
}

/** Checks that a value is an array of patch operations (the `ops` of an agent decision). */
export function asPatchOperations(value: unknown): PatchOperation[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const ops = ['add', 'remove', 'replace', 'move', 'copy', 'test'];
  for (const op of value) {
    if (typeof op !== 'object' || op === null) return undefined;
    const o = op as Record<string, unknown>;
    if (typeof o.op !== 'string' || !ops.includes(o.op) || typeof o.path !== 'string') return undefined;
  }
  return value as PatchOperation[];
}
