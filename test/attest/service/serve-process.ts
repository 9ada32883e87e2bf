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

export interface ServeReplicas {
  urls: string[];
  processes: ServeProcess[];
  stop(): void;
}

/**
 * `count` service processes as replicas: one Redis store, one signing key file, one issuer, the same
 * flags. Stops what it started if any replica fails to come up.
 */
export async function startServeReplicas(count: number, options: { redisUrl: string; signingKey: string; issuer: string; args?: string[] }): Promise<ServeReplicas> {
  const processes: ServeProcess[] = [];
  const stop = () => processes.forEach((p) => p.stop());
  const started = await Promise.allSettled(
    Array.from({ length: count }, () => startServeAttestation(['--store', options.redisUrl, '--signing-key', options.signingKey, '--issuer', options.issuer, ...(options.args ?? [])])),
  );
  for (const s of started) if (s.status === 'fulfilled') processes.push(s.value);
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    stop();
    throw failed.reason;
  }
  return { urls: processes.map((p) => p.url), processes, stop };
}
