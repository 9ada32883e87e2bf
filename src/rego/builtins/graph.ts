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
      const walk = (node: Value, path: Value[], onPath: Set<string>): void => {
        const next = neighbours(graph, node).filter((m) => graph.has(m) && !onPath.has(keyOf(m)));
        if (next.length === 0) {
          paths.add(path);
          return;
        }
        for (const m of next) walk(m, [...path, m], new Set([...onPath, keyOf(m)]));
      };
      for (const n of initialNodes('graph.reachable_paths', initial)) if (graph.has(n)) walk(n, [n], new Set([keyOf(n)]));
      return paths;
    },
  },
};
