/**
 * Protobuf defaults for agent requests, read from the agent's own `.proto` files: the agent
 * deserialises each request into its generated protobuf types, so every field a sender leaves out
 * reaches the policy as its proto3 default (empty string, 0, false, empty list or map, `null` for a
 * message, 0 for an enum). The JSON names are the proto field names, with Rust's raw keyword `type`
 * written `type_` (as the Rust protobuf code names it).
 *
 * Only what the agent's protos use is read: packages, messages (nested too), enums, fields
 * (`repeated`, `map<K, V>`, `oneof` members); options, services and comments are skipped.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../../core/errors.js';

export interface ProtoField {
  name: string;
  type: string;
  repeated: boolean;
  map: boolean;
}

export interface ProtoSchema {
  /** Full names (`grpc.CreateContainerRequest`) to their fields. */
  messages: Map<string, { pkg: string; scope: string; fields: ProtoField[] }>;
  enums: Set<string>;
}

const SCALAR_DEFAULTS: Record<string, unknown> = {
  string: '',
  bytes: [],
  bool: false,
  double: 0,
  float: 0,
  int32: 0,
  int64: 0,
  uint32: 0,
  uint64: 0,
  sint32: 0,
  sint64: 0,
  fixed32: 0,
  fixed64: 0,
  sfixed32: 0,
  sfixed64: 0,
};

const RUST_KEYWORDS = new Set(['type', 'match', 'loop', 'move', 'ref', 'self', 'fn', 'impl', 'mod', 'use', 'where']);

/** The field's name in the agent's JSON. */
export const jsonName = (name: string) => (RUST_KEYWORDS.has(name) ? `${name}_` : name);

function tokenize(text: string): string[] {
  const noComments = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
  return noComments.match(/"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_.]*|-?[0-9]+|[{}();=<>,[\]]/g) ?? [];
}

/** Adds one file's messages and enums to `schema`. */
export function parseProto(text: string, schema: ProtoSchema, origin: string): void {
  const tokens = tokenize(text);
  let pkg = '';
  let i = 0;
  const fail = (what: string): never => {
    throw new InputError('proto_invalid', `${origin}: ${what} (token ${i})`, { location: { file: origin }, hint: 'give the agent protos as published (proto3)' });
  };
  const skipStatement = () => {
    while (i < tokens.length && tokens[i] !== ';') i++;
    i++;
  };
  const skipBlock = () => {
    while (i < tokens.length && tokens[i] !== '{') i++;
    let depth = 0;
    do {
      if (tokens[i] === '{') depth++;
      else if (tokens[i] === '}') depth--;
      i++;
    } while (depth > 0 && i < tokens.length);
  };
  const parseMessage = (scope: string) => {
    const name = tokens[i++];
    const full = scope === '' ? name : `${scope}.${name}`;
    if (tokens[i++] !== '{') fail(`message ${name} has no body`);
    const fields: ProtoField[] = [];
    schema.messages.set(full, { pkg, scope: full, fields });
    while (i < tokens.length && tokens[i] !== '}') {
      const t = tokens[i];
      if (t === 'message') {
        i++;
        parseMessage(full);
      } else if (t === 'enum') {
        i++;
        schema.enums.add(`${full}.${tokens[i]}`);
        skipBlock();
      } else if (t === 'oneof') {
        i += 2;
        if (tokens[i++] !== '{') fail('oneof without body');
        while (tokens[i] !== '}') parseField(fields);
        i++;
      } else if (t === 'option' || t === 'reserved' || t === 'extensions') {
        skipStatement();
      } else if (t === ';') {
        i++;
      } else {
        parseField(fields);
      }
    }
    i++;
  };
  const parseField = (fields: ProtoField[]) => {
    let repeated = false;
    if (tokens[i] === 'repeated' || tokens[i] === 'optional') {
      repeated = tokens[i] === 'repeated';
      i++;
    }
    if (tokens[i] === 'map') {
      while (tokens[i] !== '>') i++;
      i++;
      fields.push({ name: tokens[i], type: 'map', repeated: false, map: true });
      skipStatement();
      return;
    }
    const type = tokens[i++];
    const name = tokens[i++];
    if (tokens[i] !== '=') fail(`field '${name}' has no number`);
    fields.push({ name, type, repeated, map: false });
    skipStatement();
  };
  while (i < tokens.length) {
    const t = tokens[i++];
    if (t === 'package') {
      pkg = tokens[i];
      skipStatement();
    } else if (t === 'message') {
      parseMessage(pkg);
    } else if (t === 'enum') {
      schema.enums.add(pkg === '' ? tokens[i] : `${pkg}.${tokens[i]}`);
      skipBlock();
    } else if (t === 'service') {
      skipBlock();
    } else if (t === 'syntax' || t === 'import' || t === 'option') {
      skipStatement();
    }
  }
}

/** Every `.proto` file of `dir`. */
export async function loadProtoDir(dir: string): Promise<ProtoSchema> {
  const schema: ProtoSchema = { messages: new Map(), enums: new Set() };
  const names = (await readdir(dir)).filter((n) => n.endsWith('.proto')).sort();
  for (const n of names) parseProto(await readFile(join(dir, n), 'utf8'), schema, join(dir, n));
  return schema;
}

/** Resolves a type name as protoc does: from the innermost scope outwards. */
function resolveType(schema: ProtoSchema, type: string, scope: string): { kind: 'message' | 'enum'; full: string } | undefined {
  const name = type.startsWith('.') ? type.slice(1) : type;
  const parts = scope.split('.');
  for (let n = parts.length; n >= 0; n--) {
    const candidate = [...parts.slice(0, n), name].filter(Boolean).join('.');
    if (schema.messages.has(candidate)) return { kind: 'message', full: candidate };
    if (schema.enums.has(candidate)) return { kind: 'enum', full: candidate };
  }
  return undefined;
}

export function findMessage(schema: ProtoSchema, name: string): string | undefined {
  if (schema.messages.has(name)) return name;
  return [...schema.messages.keys()].find((k) => k.endsWith(`.${name}`));
}

/**
 * `value` with every missing field of message `full` set to its default, recursively into present
 * messages. Fields the schema does not know are kept (the agent would refuse them; the policy sees them).
 */
export function fillDefaults(schema: ProtoSchema, full: string, value: unknown): unknown {
  const message = schema.messages.get(full);
  if (!message || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const input = value as Record<string, unknown>;
  const out: Record<string, unknown> = { ...input };
  for (const field of message.fields) {
    const key = jsonName(field.name);
    const present = Object.prototype.hasOwnProperty.call(input, key) && input[key] !== null;
    const resolved = field.map ? undefined : resolveType(schema, field.type, message.scope);
    const one = (v: unknown) => (resolved?.kind === 'message' ? fillDefaults(schema, resolved.full, v) : v);
    if (!present) {
      if (field.map) out[key] = {};
      else if (field.repeated) out[key] = [];
      else if (resolved?.kind === 'message') out[key] = null;
      else if (resolved?.kind === 'enum') out[key] = 0;
      else out[key] = SCALAR_DEFAULTS[field.type] ?? null;
    } else if (field.repeated && Array.isArray(input[key])) {
      out[key] = (input[key] as unknown[]).map(one);
    } else if (!field.map) {
      out[key] = one(input[key]);
    }
  }
  return out;
}
