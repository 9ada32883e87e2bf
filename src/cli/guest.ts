/** `confcom guest attest|get-resource|serve`: the in-pod attestation agent (src/guest). */
import { Command, Option } from './commander.js';
import { createLogger } from '../core/log.js';
import { evidenceProvider, PROVIDERS } from '../guest/evidence/index.js';
import { KbsClient, parseResourcePath } from '../guest/kbs-client.js';
import { GuestFlowError } from '../guest/errors.js';
import { AzureSkrClient } from '../guest/azure-client.js';
import { assertLoopback, createGuestApi } from '../guest/api.js';
import { writeSecretFile } from '../guest/oneshot.js';
import { InputError, UsageError } from '../core/errors.js';
import { globalOptions, printJson, printLine } from './context.js';
import { closeOnSignals, parsePort } from './listen.js';

interface CommonFlags {
  kbs?: string;
  evidence: string;
  tsmRoot?: string;
  tpmDevice?: string;
  simHostData?: string;
  retries: string;
}

const SIM_WARNING = 'INSECURE: --evidence simulated uses confcom\'s software TEE; only a service started with --trust-simulator accepts it';

function common(command: Command): Command {
  return command
    .option('--kbs <url>', 'the key broker (KBS protocol) base URL, e.g. http://confcom-attestation.confcom-system')
    .addOption(new Option('--evidence <provider>', 'where evidence comes from').choices(['auto', ...Object.keys(PROVIDERS)]).default('auto'))
    .option('--tsm-root <dir>', 'configfs-tsm report directory', '/sys/kernel/config/tsm/report')
    .option('--tpm-device <path>', 'TPM device for the Azure vTPM path', '/dev/tpmrm0')
    .option('--sim-host-data <hex>', 'HOST_DATA of the simulated VM (with --evidence simulated)')
    .option('--retries <n>', 'retries per step with exponential backoff', '4');
}

function retries(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 20) throw new UsageError(`--retries must be 0..20, got '${text}'`);
  return n;
}

/** A bad resource path is the user's mistake (exit 2), found before any evidence is gathered. */
function checkResourcePath(path: string): void {
  try {
    parseResourcePath(path);
  } catch (error) {
    if (!(error instanceof GuestFlowError)) throw error;
    throw new InputError(error.code, error.message.replace(/^kbs\/resource: /, ''), { hint: error.hint });
  }
}

function setup(flags: CommonFlags, needKbs: boolean, resourcePath?: string) {
  // The flags first: a missing --kbs or a bad path is reported before the TEE is looked for.
  if (needKbs && !flags.kbs) throw new UsageError('--kbs URL is required', { hint: 'e.g. --kbs http://confcom-attestation.confcom-system' });
  if (resourcePath !== undefined) checkResourcePath(resourcePath);
  if (flags.simHostData !== undefined && !/^[0-9a-fA-F]{64}$/.test(flags.simHostData)) throw new UsageError('--sim-host-data must be 64 hex digits (32 bytes)');
  const evidence = evidenceProvider(flags.evidence, { tsmRoot: flags.tsmRoot, tpmDevice: flags.tpmDevice, simHostData: flags.simHostData });
  if (evidence.simulated) process.stderr.write(`${SIM_WARNING}\n`);
  const retry = { retries: retries(flags.retries) };
  const log = createLogger({ level: 'info', json: true });
  const kbs = flags.kbs ? new KbsClient({ url: flags.kbs, evidence, retry, onStep: (step, fields) => log.debug(step, fields) }) : undefined;
  return { evidence, kbs, retry };
}

export function registerGuest(program: Command): void {
  const group = program.command('guest').description('the in-pod attestation agent: evidence from the TEE, KBS and Azure flows, the local secret API');

  common(group.command('attest').description('attest to the KBS (auth, evidence, attest) and print what was attested (never the token)')).action(async (flags: CommonFlags, command: Command) => {
    const { json } = globalOptions(command);
    const { kbs } = setup(flags, true);
    const result = await (kbs as KbsClient).attest();
    const out = { tee: result.evidence.tee, simulated: result.evidence.simulated, reportData: result.reportData.toString('hex'), reportBytes: result.evidence.report.length };
    if (json) printJson(out);
    else printLine(`attested: tee=${out.tee} simulated=${out.simulated} report_data=${out.reportData.slice(0, 24)}…`);
  });

  common(group.command('get-resource').description('attest, fetch one resource and decrypt it; with -o, write it to a file (mode 0400) and exit (init-container mode)'))
    .argument('<path>', 'resource path <repository>/<type>/<tag> (or kbs:///<repository>/<type>/<tag>)')
    .option('-o, --output <file>', 'write the secret to this file (mode 0400, e.g. on a tmpfs emptyDir) instead of stdout')
    .action(async (path: string, flags: CommonFlags & { output?: string }, command: Command) => {
      const { json } = globalOptions(command);
      const { kbs } = setup(flags, true, path);
      const secret = await (kbs as KbsClient).getResource(path);
      if (flags.output) {
        await writeSecretFile(flags.output, secret);
        if (json) printJson({ released: path, bytes: secret.length, file: flags.output });
        else process.stderr.write(`released ${path} (${secret.length} bytes) to ${flags.output}\n`);
      } else {
        process.stdout.write(secret);
      }
    });

  common(group.command('serve').description('serve the local API on loopback: GET /cdh/resource/{repo}/{type}/{tag}, POST /attest/maa, POST /key/release'))
    .option('--host <host>', 'loopback address to listen on', '127.0.0.1')
    .option('--port <port>', 'TCP port (0 = any free port)', '8006')
    .option('--azure', 'enable the Azure SKR endpoints (/attest/maa, /key/release)', false)
    .action(async (flags: CommonFlags & { host: string; port: string; azure: boolean }) => {
      assertLoopback(flags.host);
      const port = parsePort(flags.port);
      const { evidence, kbs, retry } = setup(flags, false);
      const azure = flags.azure ? new AzureSkrClient({ evidence, retry }) : undefined;
      const app = createGuestApi({ evidence, kbs, azure });
      await app.listen({ host: flags.host, port });
      const address = app.server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      process.stderr.write(`confcom guest agent listening on http://${flags.host}:${actual} (evidence ${evidence.name}${evidence.simulated ? ', SIMULATED' : ''})\n`);
      closeOnSignals(app);
    });
}
