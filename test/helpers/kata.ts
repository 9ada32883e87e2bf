/** The real Kata recordings in ../shared/kata-requests: policy text and recorded requests per case. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sharedPath } from './shared.js';

export interface KataCase {
  name: string;
  policyFile: string;
  requestsFile: string;
  policy: string;
  requests: { kind: string; request: unknown; expect?: unknown }[];
}

/** Loads every case, or undefined (with a notice) when ../shared is absent outside CI. */
export function loadKataCases(): KataCase[] | undefined {
  const dir = sharedPath('kata-requests');
  if (!dir) return undefined;
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory())
    .sort()
    .map((name) => {
      const policyFile = join(dir, name, 'policy.rego');
      const requestsFile = join(dir, name, 'requests.jsonl');
      const requests = readFileSync(requestsFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as KataCase['requests'][number]);
      return { name, policyFile, requestsFile, policy: readFileSync(policyFile, 'utf8'), requests };
    });
}
