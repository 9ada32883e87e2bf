/**
 * ConfigMaps and Secrets are inputs to policy generation, from the same files or `--config-file`.
 * ConfigMap values are kept (the policy pins them); of a Secret only the key names are kept, so a
 * secret value can never reach a policy, a log or an error message.
 */
import { isRecord, type Resource } from './manifest.js';

export interface ConfigMapData {
  /** `data` values by key; `binaryData` keys map to undefined (their bytes are never environment values). */
  values: Map<string, string | undefined>;
  origin: string;
}

export interface SecretKeys {
  keys: string[];
  origin: string;
}

const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;

export class ConfigStore {
  private readonly configMaps = new Map<string, ConfigMapData>();
  private readonly secrets = new Map<string, SecretKeys>();

  constructor(private readonly defaultNamespace = 'default') {}

  /** Takes a ConfigMap or Secret; returns false for any other kind. */
  add(resource: Resource): boolean {
    const namespace = resource.namespace ?? this.defaultNamespace;
    const origin = `${resource.file}, document ${resource.document}`;
    if (resource.kind === 'ConfigMap') {
      const values = new Map<string, string | undefined>();
      const data = isRecord(resource.value.data) ? resource.value.data : {};
      for (const [k, v] of Object.entries(data)) values.set(k, typeof v === 'string' ? v : String(v));
      const binary = isRecord(resource.value.binaryData) ? resource.value.binaryData : {};
      for (const k of Object.keys(binary)) values.set(k, undefined);
      this.configMaps.set(keyOf(namespace, resource.name), { values, origin });
      return true;
    }
    if (resource.kind === 'Secret') {
      const keys = new Set<string>();
      for (const field of ['data', 'stringData']) {
        const data = resource.value[field];
        if (isRecord(data)) Object.keys(data).forEach((k) => keys.add(k));
      }
      this.secrets.set(keyOf(namespace, resource.name), { keys: [...keys].sort(), origin });
      return true;
    }
    return false;
  }

  configMap(namespace: string, name: string): ConfigMapData | undefined {
    return this.configMaps.get(keyOf(namespace, name));
  }

  secret(namespace: string, name: string): SecretKeys | undefined {
    return this.secrets.get(keyOf(namespace, name));
  }
}
