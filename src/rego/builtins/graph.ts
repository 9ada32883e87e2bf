/** Rego builtins: graph reachability over adjacency objects ({node: set|array of neighbours}). */
import { keyOf, RObject, RSet, type Value } from '../value.js';
import { operandTypeError, type BuiltinTable } from './registry.js';

function neighbours(graph: RObject, node: Value): Value[] {
  const edges = graph.get(node);
  if (edges instanceof RSet) return edges.sorted() as Value[];
  if (Array.isArray(edges)) return [...edges];
  return [];
}

function initialNodes(name: string, v: Value): Value[] {
  if (v instanceof RSet) return [...v.sorted()];
  if (Array.isArray(v)) return [...v];
  throw operandTypeError(name, 2, ['set[any]', 'array[any]'], v);
}

export const builtins: BuiltinTable = {
  'graph.reachable': {
    arity: 2,
    fn: ([graph, initial]) => {
      if (!(graph instanceof RObject)) throw operandTypeError('graph.reachable', 1, ['object[any: any]'], graph);
      const seen = new RSet();
      const queue = initialNodes('graph.reachable', initial).filter((n) => graph.has(n));
      while (queue.length) {
        const n = queue.shift() as Value;
        if (seen.has(n)) continue;
        seen.add(n);
        for (const m of neighbours(graph, n)) if (!seen.has(m)) queue.push(m);
      }
      return seen;
    },
  },
  'graph.reachable_paths': {
    arity: 2,
    fn: ([graph, initial]) => {
      if (!(graph instanceof RObject)) throw operandTypeError('graph.reachable_paths', 1, ['object[any: any]'], graph);
      const paths = new RSet();
      // OPA's walk: nodes visited anywhere in one branch (not only on the current path) end a path, so a
      // node reached twice in a branch is expanded once; a neighbour missing from the graph ends the path
      // before it, a node without neighbours ends the path with it.
      const walk = (node: Value, path: Value[], reached: Set<string>): void => {
        if (!graph.has(node)) {
          paths.add(path);
          return;
        }
        const here = [...path, node];
        reached.add(keyOf(node));
        const next = neighbours(graph, node);
        if (next.length === 0) paths.add(here);
        for (const m of next) {
          if (reached.has(keyOf(m))) paths.add(here);
          else walk(m, here, reached);
        }
      };
      for (const n of initialNodes('graph.reachable_paths', initial)) {
        if (!graph.has(n)) continue;
        const next = neighbours(graph, n);
        if (next.length === 0) paths.add([n]);
        for (const m of next) walk(m, [n], new Set([keyOf(n)]));
      }
      return paths;
    },
  },
};
