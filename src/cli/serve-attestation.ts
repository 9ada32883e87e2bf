/** `serve attestation`: the attestation service and key broker (src/attest/service) on loopback by default. */
import { mkdir } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { UsageError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { globalOptions } from './context.js';
import { closeOnSignals, isLoopback, parsePort } from './listen.js';
import { loadAppraisalPolicy, loadReferenceValues } from '../attest/appraisal/index.js';
import { SecretStore } from '../attest/kbs/secrets.js';
import { loadAdminPublicKey } from '../attest/kbs/admin.js';
import { openStore, redactUrl } from '../attest/store/index.js';
import { readInputText } from '../core/fs.js';
import { loadReleasePolicy } from '../attest/kbs/release-policy.js';
import { createAttestationServer } from '../attest/service/index.js';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../attest/token/keys.js';


export const INSECURE_SIMULATOR_WARNING = [
  '*****************************************************************************',
  '* INSECURE: --trust-simulator is on. Evidence signed by confcom\'s SOFTWARE TEE  *',
  '* is accepted and secrets are released to it. Anyone can produce such         *',
  '* evidence. Use this for tests and laptops only, never with real secrets.     *',
  '*****************************************************************************',
].join('\n');

interface Flags {
  host: string;
  port: string;
  issuer?: string;
  secrets?: string;
  releasePolicy?: string;
  policy?: string;
  reference?: string;
  trustSimulator: boolean;
  tokenTtl: string;
  signingAlg: SigningAlgorithm;
  keyRotation: string;
  store: string;
  tokenFormat: 'simple' | 'ear';
  adminKey?: string;
}

function positiveInt(value: string, flag: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got '${value}'`);
  return n;
}

export function registerServeAttestation(group: Command): void {
  group
    .command('attestation')
    .description('serve the attestation service and key broker: attest, tokens, JWKS, key release, KBS protocol, health')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'TCP port (0 = any free port)', '8080')
    .option('--issuer <url>', 'token issuer (default: http://HOST:PORT)')
    .option('--secrets <dir>', 'secrets: <dir>/<repo>/<type>/<tag> files, mounted Kubernetes Secrets, Secret manifests (*.yaml)')
    .option('--release-policy <file>', 'default release policy (Azure form); default: <secrets>/release-policy.json')
    .option('--policy <file>', 'appraisal policy (Rego, package confcom.appraisal); default: the built-in policy')
    .option('--reference <file>', 'reference values (JSON/YAML): measurements, host_data, min_tcb, mrenclave, ...')
    .option('--trust-simulator', "INSECURE: accept evidence from confcom's software TEE", false)
    .option('--token-ttl <seconds>', 'token lifetime in seconds', '600')
    .addOption(new Option('--signing-alg <alg>', 'token signature algorithm').choices(SIGNING_ALGORITHMS).default('ES256'))
    .option('--key-rotation <seconds>', 'rotate the token signing key after this many seconds', String(24 * 3600))
    .addOption(new Option('--token-format <format>', 'token claims: simple (Azure-style x-ms-*) or ear (EAR, as trustee)').choices(['simple', 'ear']).default('simple'))
    .option('--store <store>', 'sessions, nonces and the release audit log: memory (this process) or redis://HOST:PORT (replicas)', 'memory')
    .option('--admin-key <file>', "the admin's Ed25519 public key (PEM); enables the KBS admin API (resource and resource-policy upload)")
    .action(async (flags: Flags, command: Command) => {
      const globals = globalOptions(command);
      const port = parsePort(flags.port);
      const tokenTtlSeconds = positiveInt(flags.tokenTtl, '--token-ttl');
      const keyRotationMs = positiveInt(flags.keyRotation, '--key-rotation', 60) * 1000;
      const policy = flags.policy ? await loadAppraisalPolicy(flags.policy) : undefined;
      const reference = flags.reference ? await loadReferenceValues(flags.reference) : undefined;
      const releasePolicy = flags.releasePolicy ? await loadReleasePolicy(flags.releasePolicy) : undefined;
      const adminKey = flags.adminKey ? loadAdminPublicKey(await readInputText(flags.adminKey), flags.adminKey) : undefined;
      // With the admin API on, the secrets directory may start empty: resources arrive by upload.
      if (flags.secrets && adminKey) await mkdir(flags.secrets, { recursive: true, mode: 0o700 });
      const secrets = flags.secrets ? new SecretStore(flags.secrets, releasePolicy) : undefined;
      const resources = secrets ? await secrets.validate() : [];
      // Decisions are always logged (JSON lines on stderr) unless the user silenced errors too.
      const decisions = createLogger({ level: globals.logLevel === 'silent' || globals.logLevel === 'error' ? globals.logLevel : 'info', json: true });
      // Shown at every log level: it is the one warning that must not be missed (a JSON line under --json).
      if (flags.trustSimulator) process.stderr.write((globals.json ? JSON.stringify({ time: new Date().toISOString(), level: 'warn', msg: INSECURE_SIMULATOR_WARNING }) : INSECURE_SIMULATOR_WARNING) + '\n');
      if (!reference) decisions.warn('no --reference given: any measurement and HOST_DATA passes the appraisal (debug and TCB checks still apply)');

      const store = await openStore(flags.store);
      const { app, service } = await createAttestationServer({
        store,
        adminKey,
        tokenFormat: flags.tokenFormat,
        issuer: flags.issuer ?? 'http://pending',
        tokenTtlSeconds,
        signingAlgorithm: flags.signingAlg,
        keyRotationMs,
        policy,
        reference,
        trustSimulator: flags.trustSimulator,
        secrets,
        logger: decisions,
      });
      app.addHook('onClose', async () => store.close());
      await app.listen({ host: flags.host, port });
      const address = app.server.address();
      const actualPort = typeof address === 'object' && address ? address.port : port;
      const hostForUrl = flags.host.includes(':') ? `[${flags.host}]` : flags.host;
      service.issuer = flags.issuer ?? `http://${hostForUrl}:${actualPort}`;
      if (!isLoopback(flags.host)) decisions.warn(`listening on ${flags.host}: the service is reachable beyond loopback; put TLS in front of it`);
      process.stderr.write(`confcom attestation service listening on http://${hostForUrl}:${actualPort} (issuer ${service.issuer}, ${resources.length} resources, store ${store.kind === 'memory' ? 'memory' : redactUrl(flags.store)})\n`);
      closeOnSignals(app);
    });
}
