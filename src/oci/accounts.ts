/**
 * Which layer's copy of a file the container sees: the top-most layer that has it, unless a layer
 * above deleted it (a whiteout of the file or of one of its directories) or made a directory on its
 * path opaque (hiding everything below).
 */
import type { LayerPin } from '../verity/layer.js';

function onPath(dir: string, file: string): boolean {
  return dir === '' || file === dir || file.startsWith(`${dir}/`);
}

/** `pins` bottom to top, as in the manifest. Returns the file's text, or undefined when absent. */
export function resolveAccountFile(pins: readonly Pick<LayerPin, 'files' | 'whiteouts' | 'opaqueDirs'>[], file: string): string | undefined {
  for (let i = pins.length - 1; i >= 0; i--) {
    const pin = pins[i];
    const data = pin.files[file];
    if (data !== undefined) return data.toString('utf8');
    if (pin.whiteouts.some((w) => onPath(w, file))) return undefined;
    if (pin.opaqueDirs.some((d) => onPath(d, file) && d !== file)) return undefined;
  }
  return undefined;
}
