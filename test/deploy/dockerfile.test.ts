/** The Dockerfile: a supported Node LTS base taken by digest only, a numeric non-root user, the CLI as entry point. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const text = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
const from = [...text.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);

describe('Dockerfile', () => {
  it('builds on Node 22 or 24 LTS and pins every base by digest', () => {
    expect(from.length).toBeGreaterThanOrEqual(2);
    const tag = /^ARG NODE_TAG=(\S+)$/m.exec(text)?.[1] ?? '';
    expect(tag).toMatch(/^(22|24)-/);
    for (const image of from) expect(image).toMatch(/:\$\{NODE_TAG\}@\$\{NODE_DIGEST\}$/);
    // no default digest to go stale or be made up: the build must be given the registry's digest
    expect(text).toMatch(/^ARG NODE_DIGEST$/m);
  });

  it('runs as a numeric non-root user with the CLI as entry point', () => {
    expect(/^USER (\d+):(\d+)$/m.exec(text)?.[1]).not.toBe('0');
    expect(text).toMatch(/ENTRYPOINT \["node", "\/app\/dist\/cli\/main\.js"\]/);
  });
});
