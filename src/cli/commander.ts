/**
 * The one door to `commander` for the CLI. Modules import it from here, never from 'commander' itself,
 * so the build can replace this module with a single-file bundle of the library
 * (scripts/bundle-deps.mjs), which starts about 7 ms of CPU faster than the package's CommonJS files.
 * Run from source (tests, tsx) the package loads as usual; both forms export the same names.
 */
export { Command, CommanderError, Option } from 'commander';
