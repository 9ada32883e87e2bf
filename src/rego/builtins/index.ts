/** The builtin registry: every family's table merged into one (name -> spec). */
import type { BuiltinSpec, BuiltinTable } from './registry.js';
import { asLimitError } from './budget.js';
import { builtins as core } from './core.js';
import { builtins as strings } from './strings.js';
import { builtins as sprintf } from './sprintf.js';
import { builtins as regex } from './regex.js';
import { builtins as glob } from './glob.js';
import { builtins as numbers } from './numbers.js';
import { builtins as aggregates } from './aggregates.js';
import { builtins as arrays } from './arrays.js';
import { builtins as sets } from './sets.js';
import { builtins as objects } from './objects.js';
import { builtins as types } from './types.js';
import { builtins as bits } from './bits.js';
import { builtins as semver } from './semver.js';
import { builtins as units } from './units.js';
import { builtins as encoding } from './encoding.js';
import { builtins as time } from './time.js';
import { builtins as uuid } from './uuid.js';
import { builtins as net } from './net.js';
import { builtins as crypto } from './crypto.js';
import { builtins as x509 } from './x509.js';
import { builtins as jwt } from './jwt.js';
import { builtins as jsonschema } from './jsonschema.js';
import { builtins as graphql } from './graphql.js';
import { builtins as aws } from './aws.js';
import { builtins as graph } from './graph.js';
import { builtins as template } from './template.js';
import { builtins as regoParse } from './rego-parse.js';

const FAMILIES: BuiltinTable[] = [
  core, strings, sprintf, regex, glob, numbers, aggregates, arrays, sets, objects, types, bits, semver, units,
  encoding, time, uuid, net, crypto, x509, jwt, jsonschema, graphql, aws, graph, template, regoParse,
];

/** Every builtin runs behind a guard that reports engine range errors (allocation, stack) as limit errors. */
function guarded(name: string, spec: BuiltinSpec): BuiltinSpec {
  const fn = spec.fn;
  return {
    ...spec,
    fn: (args, ctx) => {
      try {
        return fn(args, ctx);
      } catch (error) {
        throw asLimitError(name, error);
      }
    },
  };
}

export const BUILTINS: ReadonlyMap<string, BuiltinSpec> = new Map(
  FAMILIES.flatMap((table) => Object.entries(table)).map(([name, spec]) => [name, guarded(name, spec)]),
);

export function lookupBuiltin(name: string): BuiltinSpec | undefined {
  return BUILTINS.get(name);
}
