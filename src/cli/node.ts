/**
 * `confcom node ...`: the SGX node add-on. `device-plugin` (EPC as a kubelet resource, SGX device nodes
 * for enclave containers), `quote-helper` (the AESM socket enclave apps ask for quotes) and `webhook`
 * (admission: wires opted-in EPC pods to the quote helper, refuses EPC no node has). Each runs until
 * SIGINT/SIGTERM.
 */
import { Command, Option } from './commander.js';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../core/fs.js';
import { UsageError, fileError } from '../core/errors.js';
import { log } from '../core/log.js';
import { buildHealthServer } from '../node/health.js';
import { NodeMetrics } from '../node/metrics.js';
import { discoverEpc, parseSize } from '../node/sgx/epc.js';
import { SgxDevicePlugin } from '../node/sgx/plugin.js';
import { RESOURCE_NAMINGS, type ResourceNaming } from '../node/sgx/resources.js';
import type { QuoteBackend } from '../node/quotehelper/backend.js';
import { ForwardQuoteBackend } from '../node/quotehelper/forward.js';
import { AesmServer } from '../node/quotehelper/server.js';
import { buildWebhookServer } from '../node/webhook/server.js';
import { parsePort } from './listen.js';

const INSECURE_SIM = 'WARNING: quote helper backend "sim" signs quotes with the software TEE (INSECURE, for tests and local mode; verifiers refuse them unless told to trust the simulator)';

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive whole number, got '${text}'`);
  return n;
}

function readPem(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw fileError(file, error);
  }
}

/** Runs until SIGINT/SIGTERM, then stops everything given, in order. */
function stopOnSignals(stops: (() => Promise<unknown>)[]): void {
  const stop = () => void Promise.allSettled(stops.map((s) => s())).then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

interface HealthFlags {
  metricsPort?: string;
  metricsHost: string;
}

async function startHealth(flags: HealthFlags, metrics: NodeMetrics, status: () => { ok: boolean; details: Record<string, unknown> }): Promise<(() => Promise<unknown>) | undefined> {
  if (flags.metricsPort === undefined) return undefined;
  const app = buildHealthServer(metrics, status);
  await app.listen({ host: flags.metricsHost, port: parsePort(flags.metricsPort) });
  const address = app.server.address();
  process.stderr.write(`health and metrics on http://${flags.metricsHost}:${typeof address === 'object' && address ? address.port : flags.metricsPort}/healthz, /metrics\n`);
  return () => app.close();
}

const healthOptions = (command: Command): Command =>
  command
    .option('--metrics-port <port>', 'serve /healthz and /metrics (Prometheus) on this TCP port (default: off)')
    .option('--metrics-host <host>', 'address for /healthz and /metrics (0.0.0.0 in a pod, so the kubelet can probe it)', '127.0.0.1');

interface DevicePluginFlags extends HealthFlags {
  pluginDir: string;
  epcSize?: string;
  resourceNames: ResourceNaming;
  devDir: string;
  hostDevDir: string;
  sysRoot: string;
  sharedLimit: string;
}

function registerDevicePlugin(group: Command): void {
  healthOptions(group
    .command('device-plugin')
    .description('advertise SGX EPC to the kubelet (device plugin API v1beta1) and hand enclave containers the SGX device nodes')
    .option('--plugin-dir <dir>', "the kubelet's device-plugin folder", '/var/lib/kubelet/device-plugins')
    .option('--epc-size <size>', 'EPC of this node (e.g. 8GiB); default: discovered from sysfs or CPUID leaf 0x12')
    .addOption(new Option('--resource-names <names>', 'resource names to advertise').choices(RESOURCE_NAMINGS).default('azure'))
    .option('--dev-dir <dir>', "where the host's /dev is visible to this process", '/dev')
    .option('--host-dev-dir <dir>', "the host's path of that folder, as the container runtime sees it", '/dev')
    .option('--sys-root <dir>', 'where sysfs is mounted', '/sys')
    .option('--shared-limit <n>', 'pods per node that may share the Intel-style enclave/provision devices', '110'))
    .action(async (flags: DevicePluginFlags) => {
      const epc = discoverEpc({ configuredBytes: flags.epcSize === undefined ? undefined : parseSize(flags.epcSize), sysRoot: flags.sysRoot });
      if (!epc.found) process.stderr.write(`confcom device plugin: ${epc.reason}; advertising nothing\n`);
      const metrics = new NodeMetrics();
      const plugin = new SgxDevicePlugin({
        pluginDir: flags.pluginDir, epc, naming: flags.resourceNames, devDir: flags.devDir, hostDevDir: flags.hostDevDir,
        sharedLimit: positiveInt(flags.sharedLimit, '--shared-limit'), log, metrics,
      });
      await plugin.start();
      const stopHealth = await startHealth(flags, metrics, () => ({
        ok: plugin.servers.every((s) => s.registrations > 0),
        details: { ...plugin.summary, registrations: plugin.servers.map((s) => s.registrations) },
      }));
      process.stderr.write(`confcom device plugin: ${JSON.stringify(plugin.summary)}\n`);
      stopOnSignals([() => plugin.stop(), ...(stopHealth ? [stopHealth] : [])]);
    });
}

interface QuoteHelperFlags extends HealthFlags {
  socket: string;
  backend: 'forward' | 'sim';
  aesmdSocket?: string;
  maxClients: string;
  timeout: string;
  simCollateral?: string;
}

function registerQuoteHelper(group: Command): void {
  healthOptions(group
    .command('quote-helper')
    .description('serve the AESM protocol (quote-ex requests) on a unix socket for enclave apps with SGX_AESM_ADDR=1')
    .option('--socket <path>', 'the AESM socket to serve', '/var/run/aesmd/aesm.socket')
    .addOption(new Option('--backend <backend>', 'forward: to the real aesmd (production); sim: software TEE (INSECURE)').choices(['forward', 'sim']).default('forward'))
    .option('--aesmd-socket <path>', 'the real aesmd socket that --backend forward passes requests to')
    .option('--max-clients <n>', 'concurrent client connections', '32')
    .option('--timeout <ms>', 'time the backend has to answer one request', '60000')
    .option('--sim-collateral <file>', 'with --backend sim: write the collateral (TCB info, QE identity, CRLs) verifiers need to this file'))
    .action(async (flags: QuoteHelperFlags) => {
      let backend: QuoteBackend;
      if (flags.backend === 'forward') {
        if (!flags.aesmdSocket) throw new UsageError('--backend forward needs --aesmd-socket', { hint: "point it at the node's aesmd socket (not the one this helper serves), or use --backend sim for local tests" });
        if (flags.aesmdSocket === flags.socket) throw new UsageError('--aesmd-socket must differ from --socket: the helper would forward to itself');
        backend = new ForwardQuoteBackend({ aesmdSocket: flags.aesmdSocket, timeoutMs: positiveInt(flags.timeout, '--timeout') });
      } else {
        process.stderr.write(INSECURE_SIM + '\n');
        const { SimQuoteBackend } = await import('../node/quotehelper/sim.js');
        const sim = new SimQuoteBackend();
        if (flags.simCollateral) await writeFileAtomic(flags.simCollateral, JSON.stringify(sim.collateral(), null, 2) + '\n');
        backend = sim;
      }
      const metrics = new NodeMetrics();
      const server = new AesmServer({ socket: flags.socket, backend, maxClients: positiveInt(flags.maxClients, '--max-clients'), requestTimeoutMs: positiveInt(flags.timeout, '--timeout'), log, metrics });
      await server.start();
      const stopHealth = await startHealth(flags, metrics, () => ({ ok: true, details: { backend: backend.name, socket: flags.socket, ...server.stats } }));
      process.stderr.write(`confcom quote helper: serving ${flags.socket} (backend ${backend.name})\n`);
      stopOnSignals([() => server.stop(), ...(stopHealth ? [stopHealth] : [])]);
    });
}

interface WebhookFlags {
  host: string;
  port: string;
  tlsCert?: string;
  tlsKey?: string;
  epcSize?: string;
}

function registerWebhook(group: Command): void {
  group
    .command('webhook')
    .description('admission webhook (HTTPS, admission.k8s.io/v1): inject the quote helper into opted-in EPC pods, refuse EPC above the pool size')
    .option('--host <host>', 'address to listen on', '0.0.0.0')
    .option('--port <port>', 'TCP port (0 = any free port)', '8443')
    .option('--tls-cert <file>', 'serving certificate (PEM), as the webhook configuration caBundle trusts')
    .option('--tls-key <file>', 'its private key (PEM)')
    .option('--epc-size <size>', "EPC of one node of the pool (e.g. 8GiB); pods asking for more are refused")
    .action(async (flags: WebhookFlags) => {
      if (!flags.tlsCert || !flags.tlsKey) throw new UsageError('the webhook needs --tls-cert and --tls-key', { hint: 'the API server calls admission webhooks over HTTPS only' });
      const metrics = new NodeMetrics();
      const app = buildWebhookServer({
        tls: { cert: readPem(flags.tlsCert), key: readPem(flags.tlsKey) },
        epcBytes: flags.epcSize === undefined ? undefined : parseSize(flags.epcSize), metrics,
      });
      const port = parsePort(flags.port);
      await app.listen({ host: flags.host, port });
      const address = app.server.address();
      process.stderr.write(`confcom webhook listening on https://${flags.host}:${typeof address === 'object' && address ? address.port : port}/mutate\n`);
      stopOnSignals([() => app.close()]);
    });
}

export function registerNode(program: Command): void {
  const group = program.command('node').description('SGX node add-on: EPC device plugin, AESM quote helper, admission webhook');
  registerDevicePlugin(group);
  registerQuoteHelper(group);
  registerWebhook(group);
}
