/**
 * One output format: how a policy rides on the pod (which annotation, how the text is encoded) and
 * what HOST_DATA binds it. Each format is one module behind this interface, listed once in index.ts.
 */
export interface EncodedPolicy {
  annotation: string;
  value: string;
  /** HOST_DATA, lower-case hex. */
  hostData: string;
}

export interface DecodedPolicy {
  /** The Rego text the agent enforces. */
  policy: string;
  /** HOST_DATA, lower-case hex. */
  hostData: string;
}

export interface PolicyFormatModule<Name extends string = string> {
  name: Name;
  /** The pod annotation that carries the encoded policy. */
  annotation: string;
  /** One line for `--help`. */
  describe: string;
  encode(policy: string): EncodedPolicy;
  /** `origin` names the file and resource in errors. */
  decode(value: string, origin: string): DecodedPolicy;
  /** The document HOST_DATA is the SHA-256 of (the Rego text, or the initdata TOML), for `--raw-out`. */
  document(policy: string): string;
}
