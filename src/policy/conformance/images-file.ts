/**
 * Images from a JSON file (`images.json` of genpolicy's test data): reference -> OCI config (the
 * `config` object), optional /etc/passwd and /etc/group, optional manifest digest. For offline runs
 * in guest-pull mode, where the policy pins the image and its config, not its layers.
 */
import { readFile } from 'node:fs/promises';
import { InputError, fileError } from '../../core/errors.js';
import type { ImageInfo, ImageResolver } from '../images.js';

interface FileImage {
  config?: { User?: string; Env?: string[]; Entrypoint?: string[]; Cmd?: string[]; WorkingDir?: string; Volumes?: Record<string, unknown> };
  passwd?: string;
  group?: string;
  top_digest?: string;
}

export class FileImageResolver implements ImageResolver {
  constructor(private readonly images: Record<string, FileImage>, private readonly origin: string) {}

  static async load(file: string): Promise<FileImageResolver> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw fileError(file, error);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      throw new InputError('images_file_invalid', `${file} is not JSON`, { location: { file }, hint: 'give {"images": {"<reference>": {"config": {...}}}}', cause });
    }
    const images = (parsed as { images?: unknown }).images;
    if (images === null || typeof images !== 'object') {
      throw new InputError('images_file_invalid', `${file} has no "images" object`, { location: { file }, hint: 'give {"images": {"<reference>": {"config": {...}}}}' });
    }
    return new FileImageResolver(images as Record<string, FileImage>, file);
  }

  resolve(reference: string): Promise<ImageInfo> {
    // A reference without tag or digest means `:latest`, as the runtime pulls it.
    const name = reference.split('/').pop() ?? '';
    const image = this.images[reference] ?? (!name.includes(':') && !reference.includes('@') ? this.images[`${reference}:latest`] : undefined);
    if (!image) {
      return Promise.reject(new InputError('image_not_in_file', `image '${reference}' is not in ${this.origin}`, { location: { file: this.origin }, hint: 'add the image config to the images file' }));
    }
    const c = image.config ?? {};
    const at = reference.indexOf('@');
    return Promise.resolve({
      reference,
      canonical: reference,
      digest: image.top_digest ?? (at >= 0 ? reference.slice(at + 1) : ''),
      platform: { os: 'linux', architecture: 'amd64' },
      config: {
        user: c.User,
        env: c.Env ?? [],
        entrypoint: c.Entrypoint,
        cmd: c.Cmd,
        workingDir: c.WorkingDir,
        volumes: Object.keys(c.Volumes ?? {}),
        exposedPorts: [],
        labels: {},
      },
      layers: [],
      ...(image.passwd !== undefined ? { passwd: image.passwd } : {}),
      ...(image.group !== undefined ? { group: image.group } : {}),
    });
  }
}
