/** Debian's python3 with grpcio and protobuf (.ci/run installs them); absent: skip with a notice, fail under CI=true. */
import { spawn, spawnSync } from 'node:child_process';
import { collectOutput } from '../helpers/cli.js';

export const PYTHON = '/usr/bin/python3';

export function hasPythonGrpc(): boolean {
  const ok = spawnSync(PYTHON, ['-c', 'import grpc, google.protobuf'], { encoding: 'utf8' }).status === 0;
  if (ok) return true;
  if (process.env.CI === 'true') throw new Error('CI=true but /usr/bin/python3 lacks grpc/protobuf (.ci/run installs python3-grpcio python3-protobuf)');
  process.stderr.write('NOTICE: skipping the python3-grpcio client tests (apt-get install python3-grpcio python3-protobuf)\n');
  return false;
}

/** Runs a python script asynchronously (the event loop must keep serving the plugin meanwhile). */
export function runPython(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return collectOutput(spawn(PYTHON, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
}
