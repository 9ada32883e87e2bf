/**
 * The manifests behind the command line's inputs: files, `-` (standard input, read once) and folders
 * (`-f DIR`, recursive on request). Light on imports, so `policy hash` needs nothing of the generator.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, fileError } from '../core/errors.js';
import { loadManifest, parseManifest, type ManifestFile } from '../k8s/manifest.js';

/** The name standard input goes by in messages (`-` on the command line). */
export const STDIN_NAME = '<stdin>';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/** The manifest files of a folder, in name order (`-f DIR`); sub-folders too when `recursive`, as kubectl -R. */
async function manifestFilesIn(dir: string, recursive: boolean): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
    throw fileError(dir, error);
  });
  const out: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (recursive) out.push(...(await manifestFilesIn(path, true)));
    } else if (MANIFEST_FILE.test(e.name)) out.push(path);
  }
  return out;
}

/** The files behind the inputs: `-` (standard input), files, and folders (their manifests). */
export async function expandInputs(inputs: readonly string[], recursive = false): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    if (input === '-') {
      out.push(input);
      continue;
    }
    const isDir = await stat(input).then((s) => s.isDirectory(), () => false);
    if (!isDir) {
      out.push(input);
      continue;
    }
    const found = await manifestFilesIn(input, recursive);
    if (found.length === 0) throw new InputError('manifest_none', `${input} holds no .yaml, .yml or .json file${recursive ? '' : ' (sub-folders are read with --recursive)'}`, { location: { file: input }, hint: 'point -f at manifests, or add --recursive' });
    out.push(...found);
  }
  return out;
}

/** Loads each input; `-` reads standard input (once). */
export async function loadManifests(files: readonly string[]): Promise<ManifestFile[]> {
  const out: ManifestFile[] = [];
  for (const f of files) out.push(f === '-' ? parseManifest(await readStdin(), STDIN_NAME) : await loadManifest(f));
  return out;
}
