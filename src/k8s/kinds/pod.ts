/** Pod: the object is its own template; the sandbox name is `metadata.name` (or generateName + 5 characters). */
import { isRecord } from '../manifest.js';
import { escapeRegex, generatedName, type WorkloadKind } from './kind.js';

export const podKind: WorkloadKind = {
  kind: 'Pod',
  templatePath: [],
  podName(resource) {
    const metadata = isRecord(resource.value.metadata) ? resource.value.metadata : {};
    if (typeof metadata.name === 'string' && metadata.name !== '') {
      return { regex: `^${escapeRegex(metadata.name)}$`, exact: metadata.name, describe: metadata.name, sample: metadata.name };
    }
    const prefix = typeof metadata.generateName === 'string' ? metadata.generateName : '';
    return generatedName(prefix, `${prefix}<5 characters>`);
  },
};
