/**
 * One module per policy-bearing Kubernetes kind, behind this interface: where the pod template sits in
 * the object and which names the pods it creates get (the sandbox name the Kata runtime reports).
 */
import type { NodePath, Resource } from '../manifest.js';

/** The names pods of a resource get: an anchored RE2 pattern, and the exact name when it is fixed. */
export interface PodNamePattern {
  regex: string;
  exact?: string;
  /** For people: `web-<hash>-<5 chars>`. */
  describe: string;
  /** A name matching the pattern, for simulated requests. */
  sample: string;
}

export interface WorkloadKind {
  kind: string;
  /** Path from the object to its pod template (a mapping with `metadata` and `spec`); [] for a Pod. */
  templatePath: NodePath;
  podName(resource: Resource): PodNamePattern;
  /** Names of the volume claim templates whose claims the pods mount (StatefulSet). */
  claimTemplates?(resource: Resource): string[];
}

/** RE2 metacharacters escaped, so a literal can sit inside a pattern. */
export function escapeRegex(text: string): string {
  return text.replace(/[\\.+*?()|[\]{}^$]/g, (c) => `\\${c}`);
}

/** Kubernetes keeps generated names within 63 characters: the prefix is cut to 58 before the 5-character suffix. */
const MAX_GENERATED_PREFIX = 58;

/** Pods named `<prefix><5 random characters>`, as the API server's generateName does. */
export function generatedName(prefix: string, describe: string): PodNamePattern {
  const kept = prefix.slice(0, MAX_GENERATED_PREFIX);
  return { regex: `^${escapeRegex(kept)}[a-z0-9]{5}$`, describe, sample: `${kept}x7k2q` };
}

