/** What the `serve` commands share: the --port flag, the loopback test, and closing on SIGINT/SIGTERM. */
import { UsageError } from '../core/errors.js';

/** Host names that keep a service on this machine. */
export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', 'localhost', '::1'];

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.includes(host);
}

/** `--port` as a TCP port (0 = any free port). */
export function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535, got '${text}'`);
  return port;
}

/** Stops the server cleanly (in-flight requests finish) when the process is asked to stop. */
export function closeOnSignals(server: { close(): Promise<unknown> }): void {
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
