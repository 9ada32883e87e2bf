/**
 * The one door to the `yaml` library. Every module imports YAML from here, never from 'yaml' itself,
 * so the build can replace this module with a single-file bundle of the library
 * (scripts/bundle-deps.mjs): Node then reads one file instead of about ninety, which takes roughly
 * 30 ms of CPU off every command that reads a manifest. Run from source (tests, tsx) the library loads
 * as usual; both forms export the same names.
 */
export { Composer, CST, LineCounter, Parser, Scalar, YAMLParseError, isMap, isScalar, isSeq, parse, parseAllDocuments, stringify } from 'yaml';
export type { Document, Node, Pair, ToStringOptions, YAMLMap } from 'yaml';
