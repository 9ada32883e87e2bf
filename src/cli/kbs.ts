/**
 * `confcom kbs`: a KBS client and admin tool like trustee's kbs-client. `attest` and `get-resource`
 * run the RCAR flow; outside a TEE the evidence comes from confcom's software TEE (--simulate, marked
 * simulated: only a service started with --trust-simulator accepts it). `set-resource` and
 * `set-resource-policy` sign an EdDSA JWT with the admin's Ed25519 private key.
 */
import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { Command } from './commander.js';
import { InputError, UsageError } from '../core/errors.js';
import { GuestFlowError } from '../guest/errors.js';
import { readInputFile, readInputText } from '../core/fs.js';
import { KbsClient } from '../guest/kbs-client.js';
import { SimulatedSnpProvider } from '../guest/evidence/sim.js';
import { printLine } from './context.js';

interface ClientFlags {
  simulate: boolean;
  hostData?: string;
  initData?: string;
}

function url(command: Command): string {
  const u = (command.parent?.opts() as { url?: string }).url;
  if (!u) throw new UsageError('--url is required (the KBS address, e.g. http://127.0.0.1:8080)');
  return u;
}

function simulatedHostData(flags: ClientFlags, initData: string | undefined): Buffer {
  if (!flags.simulate) throw new UsageError('no TEE evidence source: pass --simulate to use the software TEE (for services started with --trust-simulator)');
  if (flags.hostData !== undefined) {
    if (!/^[0-9a-fA-F]{64}$/.test(flags.hostData)) throw new UsageError('--host-data must be 64 hex digits (32 bytes)');
    return Buffer.from(flags.hostData, 'hex');
  }
  if (initData !== undefined) {
    // As Kata does: HOST_DATA is the init-data digest (here with the algorithm its TOML names).
    const alg = /^\s*algorithm\s*=\s*"(sha256|sha384|sha512)"/m.exec(initData)?.[1] ?? 'sha256';
    return createHash(alg).update(initData).digest().subarray(0, 32);
  }
  return Buffer.alloc(32);
}

/** The one KBS client (src/guest) with the software TEE as its evidence, attested. */
async function attested(command: Command, flags: ClientFlags): Promise<{ client: KbsClient; token: string }> {
  const initData = flags.initData ? await readInputText(flags.initData) : undefined;
  const evidence = new SimulatedSnpProvider({ hostData: simulatedHostData(flags, initData) });
  const client = new KbsClient({ url: url(command), evidence, initData, retry: { retries: 0 } });
  const { token } = await client.attest();
  return { client, token };
}

async function adminKey(file: string | undefined): Promise<KeyObject> {
  if (!file) throw new UsageError('--auth-private-key is required (the admin Ed25519 private key, PEM)');
  try {
    const key = createPrivateKey(await readInputText(file));
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`expected an Ed25519 key, got ${String(key.asymmetricKeyType)}`);
    return key;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--auth-private-key ${file}: ${(error as Error).message}`);
  }
}

function resourcePathFlag(path: string): string {
  if (!/^[^/]+\/[^/]+\/[^/]+$/.test(path.replace(/^\/+/, ''))) throw new UsageError(`--path '${path}' must be <repository>/<type>/<tag>`);
  return path;
}

const adminClient = (command: Command) => new KbsClient({ url: url(command), retry: { retries: 0 } });

const clientOptions = (c: Command): Command =>
  c
    .option('--simulate', "INSECURE: evidence from confcom's software TEE (the service must trust the simulator)", false)
    .option('--host-data <hex>', 'HOST_DATA of the simulated TEE (default: the init-data digest, else zeros)')
    .option('--init-data <file>', 'CoCo init-data TOML sent with the attestation');

export function registerKbs(program: Command): void {
  const group = program.command('kbs').description("a KBS client and admin tool (trustee's protocol 0.4.0), like trustee's kbs-client").option('--url <url>', 'the KBS address');

  clientOptions(group.command('attest').description('attest and print the attestation token')).action(async (flags: ClientFlags, command: Command) => {
    printLine((await attested(command, flags)).token);
  });

  clientOptions(group.command('get-resource').description('attest, fetch a resource and write it (decrypted) to stdout'))
    .requiredOption('--path <repo/type/tag>', 'the resource path')
    .action(async (flags: ClientFlags & { path: string }, command: Command) => {
      const { client } = await attested(command, flags);
      process.stdout.write(await client.getResource(resourcePathFlag(flags.path)));
    });

  group
    .command('set-resource')
    .description('upload a resource (admin)')
    .requiredOption('--path <repo/type/tag>', 'the resource path')
    .requiredOption('--resource-file <file>', 'the resource bytes')
    .option('--auth-private-key <file>', 'the admin Ed25519 private key (PEM)')
    .action(async (flags: { path: string; resourceFile: string; authPrivateKey?: string }, command: Command) => {
      const key = await adminKey(flags.authPrivateKey);
      await adminClient(command).setResource(key, resourcePathFlag(flags.path), await readInputFile(flags.resourceFile));
      printLine(`set ${flags.path}`);
    });

  group
    .command('set-resource-policy')
    .description('set the default resource (release) policy (admin)')
    .requiredOption('--policy-file <file>', 'the release policy (Azure JSON form)')
    .option('--auth-private-key <file>', 'the admin Ed25519 private key (PEM)')
    .action(async (flags: { policyFile: string; authPrivateKey?: string }, command: Command) => {
      const key = await adminKey(flags.authPrivateKey);
      try {
        await adminClient(command).setResourcePolicy(key, await readInputText(flags.policyFile));
      } catch (error) {
        // The KBS could not parse the policy (trustee says 401 ParsePolicyError): the file is at fault.
        if (error instanceof GuestFlowError && error.code === 'peer_policy_invalid') {
          const detail = error.details?.peerDetail;
          throw new InputError('resource_policy_invalid', `the KBS could not parse ${flags.policyFile}${typeof detail === 'string' ? `: ${detail}` : ''}`, {
            location: { file: flags.policyFile },
            hint: 'give the release policy in the form this KBS reads (confcom serve attestation: the Azure JSON form; trustee: Rego)',
            cause: error,
          });
        }
        throw error;
      }
      printLine('resource policy set');
    });
}
