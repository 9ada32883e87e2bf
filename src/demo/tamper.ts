/**
 * What a malicious host might send instead of the runtime's genuine requests: each variant changes
 * one thing the policy pins and says which request field carries the change, so the demo can check
 * that the agent's explanation blames exactly that field. A request without the expected shape is a
 * bug in the simulation (InternalError), never the user's input.
 */
import { InternalError } from '../core/errors.js';
import type { JsonValue, SimulatedRequest } from '../policy/index.js';

type JsonObject = { [key: string]: JsonValue };

export interface TamperedRequest {
  /** What the host did, for people. */
  what: string;
  kind: string;
  request: JsonValue;
  /** The field path (in explainDenial's notation) holding the tampered value. */
  field: string;
}

const isObject = (v: JsonValue | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function objectAt(value: JsonValue, path: readonly string[]): JsonObject {
  let at: JsonValue | undefined = value;
  for (const key of path) at = isObject(at) ? at[key] : undefined;
  if (!isObject(at)) throw new InternalError(`demo: simulated request has no object at ${path.join('.')}`);
  return at;
}

function arrayAt(value: JsonValue, path: readonly string[]): JsonValue[] {
  const parent = objectAt(value, path.slice(0, -1));
  const found = parent[path[path.length - 1]];
  if (!Array.isArray(found)) throw new InternalError(`demo: simulated request has no array at ${path.join('.')}`);
  return found;
}

/** The genuine CreateContainerRequest of the named (non-sandbox) container. */
export function findCreateContainer(requests: readonly SimulatedRequest[], container: string): SimulatedRequest {
  const found = requests.find((r) => r.kind === 'CreateContainerRequest' && objectAt(r.request, ['OCI', 'Annotations'])['io.kubernetes.cri.container-name'] === container);
  if (!found) throw new InternalError(`demo: no CreateContainerRequest for container '${container}'`);
  return found;
}

/** The first genuine ExecProcessRequest (an exec probe) into the container `create` creates. */
export function findExec(requests: readonly SimulatedRequest[], create: SimulatedRequest): SimulatedRequest | undefined {
  const id = objectAt(create.request, [])['container_id'];
  return requests.find((r) => r.kind === 'ExecProcessRequest' && objectAt(r.request, [])['container_id'] === id);
}

/** An extra environment variable, e.g. a preloaded library, injected into the container's process. */
export function injectEnv(create: SimulatedRequest, variable: string): TamperedRequest {
  const request = structuredClone(create.request);
  const env = arrayAt(request, ['OCI', 'Process', 'Env']);
  env.push(variable);
  return { what: `injected env ${variable}`, kind: create.kind, request, field: `OCI.Process.Env[${env.length - 1}]` };
}

const ROOT_HASH_OPTION = 'io.katacontainers.fs-opt.root-hash=';

/**
 * The top image layer's dm-verity root hash replaced, as if the host served another layer. Kata lists
 * a container's layer storages top layer first (the overlay's lowerdir order).
 */
export function swapLayer(create: SimulatedRequest, rootHash: string): TamperedRequest {
  const request = structuredClone(create.request);
  const pinned = arrayAt(request, ['storages']).flatMap((storage, index) => {
    const options = isObject(storage) && Array.isArray(storage.options) ? storage.options : [];
    const option = options.findIndex((o) => typeof o === 'string' && o.startsWith(ROOT_HASH_OPTION));
    return option < 0 ? [] : [{ index, options, option }];
  });
  const top = pinned[0];
  if (!top) throw new InternalError('demo: the CreateContainerRequest has no pinned layer');
  const { index, options, option } = top;
  options[option] = `${ROOT_HASH_OPTION}${rootHash}`;
  return { what: `its top layer swapped (root hash ${rootHash.slice(0, 12)}…)`, kind: create.kind, request, field: `storages[${index}].options[${option}]` };
}

/** An exec of a command the manifest does not allow, in the container the genuine exec targets. */
export function execOther(exec: SimulatedRequest, args: string[]): TamperedRequest {
  const request = structuredClone(exec.request);
  objectAt(request, ['process']).Args = args;
  return { what: `exec ${JSON.stringify(args)}`, kind: exec.kind, request, field: 'process.Args' };
}
