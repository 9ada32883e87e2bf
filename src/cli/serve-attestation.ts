/** `serve attestation`: the attestation service and key broker (src/attest/service) on loopback by default. */
import { mkdir } from 'node:fs/promises';
import { Command, Option } from './commander.js';
import { InputError, UsageError } from '../core/errors.js';
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
import { SIGNING_ALGORITHMS, SigningKeyRing, type SigningAlgorithm } from '../attest/token/keys.js';
import { collateralSources } from '../attest/collateral/index.js';


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
  signingKey?: string;
  pccsUrl?: string;
  pccsRootCrlUrl?: string;
  kdsUrl?: string;
  kdsProduct?: 'Milan' | 'Genoa' | 'Turin';
  collateralCache?: string;
  testClock?: string;
}

/** A key file shared by the replicas, so each verifies the tokens the others signed. */
async function loadSigningKey(file: string): Promise<SigningKeyRing> {
  try {
    return await SigningKeyRing.fromPrivateKeyPem(await readInputText(file));
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError('signing_key_invalid', `--signing-key ${file}: ${(error as Error).message}`, {
      location: { file },
      hint: 'give a PKCS #8 PEM private key: EC P-256 (ES256) or RSA (RS256), e.g. openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256',
    });
  }
}

function httpUrl(value: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag} must be an http(s) URL, got '${value.slice(0, 80)}'`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`${flag} must be an http(s) URL, got '${value.slice(0, 80)}'`);
  return value;
}

/** TESTS ONLY: a fixed clock, so recorded evidence and collateral can be checked at a date they were valid. */
function testClock(value: string): () => number {
  const at = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(at)) throw new UsageError(`--test-clock must be an ISO time (2025-07-01T00:00:00Z), got '${value.slice(0, 40)}'`);
  return () => at;
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
    .option('--signing-key <file>', 'token signing key (PKCS #8 PEM, EC P-256 or RSA), the same file on every replica; default: a generated key that rotates')
    .option('--pccs-url <url>', 'Intel PCS or PCCS base URL: fetch the SGX collateral a quote lacks (e.g. https://api.trustedservices.intel.com)')
    .option('--pccs-root-crl-url <url>', "Intel root CA CRL URL (default: the PCCS route under --pccs-url)")
    .option('--kds-url <url>', 'AMD KDS base URL: fetch the VCEK a SEV-SNP report comes without (e.g. https://kdsintf.amd.com)')
    .addOption(new Option('--kds-product <name>', 'the AMD product of the reports, for reports too old to say (version 2)').choices(['Milan', 'Genoa', 'Turin']))
    .option('--collateral-cache <dir>', 'keep fetched collateral here too, so a restart verifies while the source is down (default: memory only)')
    .option('--test-clock <iso-time>', 'TESTS ONLY: verify and issue tokens at this fixed time instead of now (for recorded evidence; never in production)')
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

      const keyRing = flags.signingKey ? await loadSigningKey(flags.signingKey) : undefined;
      const now = flags.testClock === undefined ? undefined : testClock(flags.testClock);
      if (now) decisions.warn(`--test-clock ${flags.testClock}: the service's clock is fixed (TESTS ONLY)`);
      const pcs = flags.pccsUrl ? { baseUrl: httpUrl(flags.pccsUrl, '--pccs-url'), rootCrlUrl: flags.pccsRootCrlUrl ? httpUrl(flags.pccsRootCrlUrl, '--pccs-root-crl-url') : undefined } : undefined;
      if (flags.kdsProduct && !flags.kdsUrl) throw new UsageError('--kds-product needs --kds-url');
      const kds = flags.kdsUrl ? { baseUrl: httpUrl(flags.kdsUrl, '--kds-url'), product: flags.kdsProduct } : undefined;
      if (flags.collateralCache && !pcs && !kds) throw new UsageError('--collateral-cache needs --pccs-url or --kds-url (there is nothing to fetch)');
      const collateral =
        pcs || kds
          ? collateralSources({ pcs, kds, cache: { dir: flags.collateralCache, now, onError: (key) => decisions.warn('collateral refresh failed; serving the cached copy while it is valid', { collateral: key }) } })
          : undefined;

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
        keyRing,
        collateral,
        now,
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
