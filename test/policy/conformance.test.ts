/**
 * genpolicy's own test cases (../shared/genpolicy-testdata) against the policies we generate for them.
 * `genpolicy-pass.txt` lists every case that passes; a listed case that stops passing fails the suite,
 * and no case upstream expects denied may be allowed. Regenerate the list with
 * `npx tsx src/cli/main.ts --json policy conformance ../shared/genpolicy-testdata/cases` after improving the rules
 * (see scripts note in the README).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conformanceSettings, runConformance, agentInput, type ConformanceResult } from '../../src/policy/conformance/runner.js';
import { loadProtoDir, parseProto, fillDefaults, type ProtoSchema } from '../../src/policy/conformance/proto-defaults.js';
import { defaultSettings } from '../../src/policy/settings.js';
import { sharedPath } from '../helpers/shared.js';

const root = sharedPath('genpolicy-testdata');
const passList = readFileSync(new URL('./genpolicy-pass.txt', import.meta.url), 'utf8').split('\n').filter((l) => l !== '');

describe('protobuf defaults', () => {
  const schema: ProtoSchema = { messages: new Map(), enums: new Set() };
  parseProto(
    `syntax = "proto3"; package t; enum Fam { v4 = 0; v6 = 1; }
     message Inner { string type = 1; repeated string opts = 2; Fam family = 3; }
     message Outer { Inner one = 1; repeated Inner many = 2; map<string, string> ann = 3; bool flag = 4; uint64 n = 5; oneof x { string a = 6; } }`,
    schema,
    'inline.proto',
  );
  it('fills missing fields as the agent sees them, into present messages', () => {
    expect(fillDefaults(schema, 't.Outer', { many: [{ opts: ['a'] }] })).toEqual({ one: null, many: [{ type_: '', opts: ['a'], family: 0 }], ann: {}, flag: false, n: 0, a: '' });
    expect(fillDefaults(schema, 't.Outer', { one: {}, flag: true })).toMatchObject({ one: { type_: '', opts: [], family: 0 }, flag: true });
  });
  it('CopyFile gets the agent PolicyCopyFileRequest defaults', () => {
    expect(agentInput(schema, 'CopyFileRequest', { path: '/x' })).toMatchObject({ path: '/x', file_type: '', symlink_target: '' });
  });
});

describe.runIf(root !== undefined)('genpolicy conformance', () => {
  let result: ConformanceResult;
  it('runs every case folder', async () => {
    const dir = root as string;
    const settings = await conformanceSettings(defaultSettings(), join(dir, 'genpolicy-settings.json'));
    expect(settings.image_pull).toBe('guest-pull');
    result = await runConformance({ casesDir: join(dir, 'cases'), protosDir: join(dir, 'protos'), imagesFile: join(dir, 'images.json'), settings });
    expect(result.cases.length).toBe(108);
    const schema = await loadProtoDir(join(dir, 'protos'));
    expect(schema.messages.has('grpc.CreateContainerRequest')).toBe(true);
  }, 60_000);

  it('every listed case still passes', () => {
    const passing = new Set(result.cases.filter((c) => c.passed).map((c) => c.id));
    const regressed = passList.filter((id) => !passing.has(id));
    expect(regressed).toEqual([]);
    const unlisted = [...passing].filter((id) => !passList.includes(id));
    if (unlisted.length > 0) process.stderr.write(`NOTICE: ${unlisted.length} genpolicy cases pass but are not in genpolicy-pass.txt: ${unlisted.join(', ')}\n`);
  });

  it('allows nothing upstream denies', () => {
    expect(result.cases.filter((c) => !c.expected && c.allowed === true).map((c) => c.id)).toEqual([]);
    expect(result.expectedDenyAllowed).toBe(0);
  });
});
