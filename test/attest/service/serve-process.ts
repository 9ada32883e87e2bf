/** Test helper: `confcom serve attestation ...` as a child process, resolved once it prints its URL. */
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from '../../helpers/cli.js';

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** Everything the service wrote to stderr so far. */
  stderr(): string;
  stop(): void;
}

export async function startServeAttestation(args: string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${REPO_ROOT}src/cli/main.ts`, 'serve', 'attestation', '--port', '0', ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line; stderr:\n${stderr}`)), 30_000);
    child.stderr!.on('data', () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code}: ${stderr}`));
    });
  });
  return { child, url, stderr: () => stderr, stop: () => child.kill('SIGTERM') };
}
