/** The AESM quote helper: Intel's quote-ex flow through `sim` and `forward`, and abuse that never stops it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForwardQuoteBackend } from '../../src/node/quotehelper/forward.js';
import { AesmServer } from '../../src/node/quotehelper/server.js';
import { SimQuoteBackend } from '../../src/node/quotehelper/sim.js';
import { runConfcom } from '../helpers/cli.js';
import { REQ, encode, report, sendRaw, transact } from './aesm-client.js';

const dir = mkdtempSync(join(tmpdir(), 'aesm-'));
const simSocket = join(dir, 'aesm.socket');
const forwardSocket = join(dir, 'forward.socket');
const backend = new SimQuoteBackend();
const sim = new AesmServer({ socket: simSocket, backend, readTimeoutMs: 300, maxMessageBytes: 64 << 10 });
const forward = new AesmServer({ socket: forwardSocket, backend: new ForwardQuoteBackend({ aesmdSocket: simSocket, timeoutMs: 5000 }) });

beforeAll(async () => {
  await sim.start();
  await forward.start();
});
afterAll(async () => {
  await forward.stop();
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Intel's sgx_qe_get_quote path as libsgx-quote-ex runs it: select key, init (size, then key), size, quote. */
async function quoteThrough(socket: string, reportData: Buffer): Promise<Buffer> {
  const num = await transact(socket, REQ.getSupportedAttKeyIDNum, [[9, 1_000_000]]);
  expect(num.get(1)).toBe(0n);
  expect(num.get(2)).toBe(1n);
  const ids = await transact(socket, REQ.getSupportedAttKeyIDs, [[1, 256], [9, 1_000_000]]);
  const idList = ids.get(2) as Buffer;
  expect(idList).toHaveLength(256);
  const selected = await transact(socket, REQ.selectAttKeyID, [[1, idList], [2, 1_000_000]]);
  const keyId = selected.get(2) as Buffer;
  expect(keyId.readUInt32LE(154)).toBe(2); // SGX_QL_ALG_ECDSA_P256
  const sizeOnly = await transact(socket, REQ.initQuoteEx, [[1, keyId], [3, false]]);
  expect(sizeOnly.get(1)).toBe(0n);
  const pubKeySize = Number(sizeOnly.get(3));
  const init = await transact(socket, REQ.initQuoteEx, [[1, keyId], [3, true], [4, pubKeySize]]);
  expect((init.get(2) as Buffer).length).toBe(512); // sgx_target_info_t
  expect((init.get(4) as Buffer).length).toBe(pubKeySize);
  const size = await transact(socket, REQ.getQuoteSizeEx, [[1, keyId]]);
  const quoteSize = Number(size.get(2));
  const answer = await transact(socket, REQ.getQuoteEx, [[1, report({ mrenclave: Buffer.alloc(32, 0xaa), mrsigner: Buffer.alloc(32, 0xbb), reportData })], [2, keyId], [4, quoteSize]]);
  expect(answer.get(1)).toBe(0n);
  const quote = answer.get(2) as Buffer;
  expect(quote.length).toBe(quoteSize);
  return quote;
}

async function verify(quote: Buffer): Promise<{ code: number; claims?: { mrenclave: string; mrsigner: string; reportData: string; simulated: boolean }; stderr: string }> {
  const file = join(dir, `evidence-${randomBytes(4).toString('hex')}.json`);
  writeFileSync(file, JSON.stringify({ quote: quote.toString('base64'), collateral: backend.collateral() }));
  const r = await runConfcom(['--json', 'attest', 'verify', '--evidence', file, '--trust-simulator']);
  const parsed = r.code === 0 ? (JSON.parse(r.stdout) as { claims: { mrenclave: string; mrsigner: string; reportData: string; simulated: boolean } }).claims : undefined;
  return { code: r.code, claims: parsed, stderr: r.stderr };
}

describe('quote helper', () => {
  it('serves a quote through sim that `confcom attest verify --trust-simulator` accepts', async () => {
    const reportData = randomBytes(64);
    const quote = await quoteThrough(simSocket, reportData);
    const result = await verify(quote);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.claims).toMatchObject({ mrenclave: 'aa'.repeat(32), mrsigner: 'bb'.repeat(32), reportData: reportData.toString('hex'), simulated: true });
    // Without trusting the simulator the same quote is refused.
    const file = join(dir, 'untrusted.json');
    writeFileSync(file, JSON.stringify({ quote: quote.toString('base64'), collateral: backend.collateral() }));
    expect((await runConfcom(['attest', 'verify', '--evidence', file])).code).toBe(1);
  });

  it('forwards the same flow unchanged to another aesmd', async () => {
    const quote = await quoteThrough(forwardSocket, Buffer.alloc(64, 7));
    expect((await verify(quote)).code).toBe(0);
  });

  it('answers bad parameters with Intel error codes', async () => {
    const short = await transact(simSocket, REQ.getQuoteEx, [[1, Buffer.alloc(100)], [4, 100_000]]);
    expect(short.get(1)).toBe(3n); // AESM_PARAMETER_ERROR
    const badKey = await transact(simSocket, REQ.getQuoteSizeEx, [[1, Buffer.alloc(256)]]);
    expect(badKey.get(1)).toBe(3n);
    const smallBuffer = await transact(simSocket, REQ.getSupportedAttKeyIDs, [[1, 10]]);
    expect(smallBuffer.get(1)).toBe(3n);
  });

  it('an unreachable aesmd is AESM_SERVICE_UNAVAILABLE through forward', async () => {
    const lonely = new AesmServer({ socket: join(dir, 'lonely.socket'), backend: new ForwardQuoteBackend({ aesmdSocket: join(dir, 'nobody.socket') }) });
    await lonely.start();
    try {
      const r = await transact(join(dir, 'lonely.socket'), REQ.getSupportedAttKeyIDNum, []);
      expect(r.get(1)).toBe(30n);
    } finally {
      await lonely.stop();
    }
  });

  it('survives 1,000 malformed frames, oversized lengths and half-closed connections', async () => {
    const before = sim.stats.malformed;
    const frames: Buffer[] = [];
    for (let i = 0; i < 1000; i++) {
      const kind = i % 5;
      if (kind === 0) frames.push(Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), randomBytes(16)])); // oversized length
      else if (kind === 1) frames.push(randomBytes(1 + (i % 3))); // half a length, then closed
      else if (kind === 2) { const b = randomBytes(40); b.writeUInt32LE(36, 0); frames.push(b); } // random protobuf
      else if (kind === 3) { const b = Buffer.concat([Buffer.alloc(4), encode([[REQ.getQuoteEx, encode([[4, 10]])]])]); b.writeUInt32LE(b.length - 4, 0); frames.push(b); } // missing required report
      else { const b = Buffer.alloc(20); b.writeUInt32LE(1000, 0); frames.push(b); } // promises more than it sends, then closes
    }
    for (let i = 0; i < frames.length; i += 50) await Promise.all(frames.slice(i, i + 50).map((f) => sendRaw(simSocket, f)));
    expect(sim.stats.malformed - before).toBeGreaterThanOrEqual(990);

    // A client that connects and says nothing is cut off by the read timeout.
    const silent = connect(simSocket);
    const closed = await new Promise<boolean>((resolve) => { silent.on('close', () => resolve(true)); silent.on('error', () => undefined); setTimeout(() => resolve(false), 3000); });
    expect(closed).toBe(true);

    // A client that shuts down its sending side after a whole request still gets its answer.
    const header = Buffer.alloc(4);
    const body = encode([[REQ.getSupportedAttKeyIDNum, encode([])]]);
    header.writeUInt32LE(body.length);
    const halfClosed = await sendRaw(simSocket, Buffer.concat([header, body]));
    expect(halfClosed.length).toBeGreaterThan(4);

    const quote = await quoteThrough(simSocket, Buffer.alloc(64, 1));
    expect((await verify(quote)).code).toBe(0);
  });

  it('refuses clients beyond --max-clients and serves again once they are gone', async () => {
    const socket = join(dir, 'bounded.socket');
    const bounded = new AesmServer({ socket, backend, maxClients: 2, readTimeoutMs: 500 });
    await bounded.start();
    try {
      const idle = [connect(socket), connect(socket)];
      idle.forEach((s) => s.on('error', () => undefined));
      await Promise.all(idle.map((s) => new Promise((r) => s.once('connect', r))));
      await new Promise((r) => setTimeout(r, 50));
      // Dropped at accept: no answer, the connection reset or closed under the writer.
      const body = encode([[REQ.getSupportedAttKeyIDNum, encode([])]]);
      const good = Buffer.concat([Buffer.from([body.length, 0, 0, 0]), body]);
      const third = await sendRaw(socket, good, { end: false }).then((b) => b.length, (e: NodeJS.ErrnoException) => e.code);
      expect([0, 'EPIPE', 'ECONNRESET']).toContain(third);
      await Promise.all(idle.map((s) => new Promise((r) => s.once('close', r)))); // the read timeout frees them
      const r = await transact(socket, REQ.getSupportedAttKeyIDNum, []);
      expect(r.get(2)).toBe(1n);
    } finally {
      await bounded.stop();
    }
  });
});
