/** `serve opa`: the OPA-compatible REST server the Kata agent's policy design talks to. */
import { Command, Option } from './commander.js';
import { UsageError } from '../core/errors.js';
import { readInputText } from '../core/fs.js';
import { log } from '../core/log.js';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PolicySyntax } from '../agent/enforcer.js';
import { closeOnSignals, isLoopback, parsePort } from './listen.js';

export function registerServeOpa(group: Command): void {
  group
    .command('opa')
    .description('serve an OPA-compatible REST API (policies, data, health) on loopback or a unix socket')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'TCP port (0 = any free port)', '8181')
    .option('--socket <path>', 'listen on a unix socket instead of TCP')
    .option('--policy <file...>', 'policy files to load at start (id = the path as given, as opa run does)')
    .option('--decision-log <file>', 'append one JSON line per decision (secrets redacted)')
    .option('--max-body <bytes>', 'request body limit in bytes', String(4 * 1024 * 1024))
    .option('--eval-timeout <ms>', 'per-query evaluation timeout', '5000')
    .addOption(new Option('--syntax <version>', 'Rego syntax of uploaded policies').choices(['auto', 'v0', 'v1']).default('auto'))
    .option('--query-workers <n>', 'query worker threads (default: one per core, at most 8)')
    .option('--query-heap <MB>', 'heap cap of each query worker (a query needing more answers rego_limit_error; below 2048 V8 collects more often)', '2048')
    .option('--default-decision <path>', 'the data path `POST /` answers, as OPA\'s --set default_decision', 'system/main')
    .action(async (flags: { host: string; port: string; socket?: string; policy?: string[]; decisionLog?: string; maxBody: string; evalTimeout: string; syntax: PolicySyntax; defaultDecision: string; queryWorkers?: string; queryHeap: string }) => {
      const port = parsePort(flags.port);
      const [{ pino }, { createOpaServer }, { DecisionLog }, { VERSION }] = await Promise.all([import('pino'), import('../agent/server/opa-server.js'), import('../agent/server/decision-log.js'), import('./main.js')]);
      if (flags.decisionLog) await checkParentFolder(flags.decisionLog, '--decision-log');
      // The request log (pino JSON lines on stderr) follows the global --log-level: `info` shows each request.
      // Its lines name the route and status, never the query string: `?input=` can carry secrets.
      // Written asynchronously: a synchronous write per line is a stderr syscall on the HTTP thread for
      // every request at `info`. What is still buffered is flushed when the server closes.
      const destination = pino.destination({ dest: 2, sync: false });
      const logger = pino(
        { level: log.level, serializers: { req: (req: { method: string; url: string; id: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }) } },
        destination,
      );
      const app = await createOpaServer({
        syntax: flags.syntax,
        maxBodyBytes: Number(flags.maxBody),
        evalTimeoutMs: Number(flags.evalTimeout),
        decisionLog: flags.decisionLog ? new DecisionLog({ file: flags.decisionLog }) : undefined,
        defaultDecision: flags.defaultDecision,
        version: VERSION,
        logger,
        queryWorkers: flags.queryWorkers === undefined ? undefined : parseCount('--query-workers', flags.queryWorkers, 1, 64),
        maxQueryHeapMb: parseCount('--query-heap', flags.queryHeap, 64, 65_536),
        // As opa run --server: print() output goes to the log stream at info (and is not gathered below it).
        logPrints: log.level === 'info' || log.level === 'debug',
      });
      app.addHook('onClose', async () => destination.flushSync());
      let address: string;
      try {
        for (const file of flags.policy ?? []) {
          const text = await readInputText(file);
          const response = await app.inject({ method: 'PUT', url: `/v1/policies/${encodeURIComponent(file)}`, payload: text, headers: { 'content-type': 'text/plain' } });
          if (response.statusCode !== 200) throw new UsageError(`policy ${file} does not load: ${response.body}`);
        }
        address = flags.socket ? await app.listen({ path: flags.socket }) : await app.listen({ host: flags.host, port });
      } catch (error) {
        // The query worker and the log stream would keep the process alive after the error.
        await app.close();
        throw error;
      }
      if (!isLoopback(flags.host) && !flags.socket) {
        log.warn(`listening on ${flags.host}: the policy API is reachable beyond loopback`);
      }
      process.stderr.write(`confcom OPA-compatible server listening on ${address}\n`);
      closeOnSignals(app);
    });
}

function parseCount(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} ${text}: give a whole number from ${min} to ${max}`);
  return n;
}

/** A log file's folder must exist: the log opens asynchronously and would fail after start-up. */
async function checkParentFolder(file: string, flag: string): Promise<void> {
  const folder = dirname(file);
  const found = await stat(folder).catch(() => undefined);
  if (!found?.isDirectory()) throw new UsageError(`${flag} ${file}: folder ${folder} does not exist`, { hint: 'create the folder first, or give a path in an existing one' });
}
