/**
 * The SGX node add-on: building and encoding the ListAndWatch message for 512 GiB of EPC (what each
 * kubelet stream gets on start and on every health change), and quotes per second through the quote
 * helper's AESM socket with the `sim` backend (4 clients in flight, one connection per request as
 * Intel's client does).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceProtoRoot } from '../src/node/deviceplugin/api.js';
import { readFrame } from '../src/node/quotehelper/frame.js';
import { decodeResponse, encodeRequest, frame } from '../src/node/quotehelper/messages.js';
import { AesmServer } from '../src/node/quotehelper/server.js';
import { SimQuoteBackend } from '../src/node/quotehelper/sim.js';
import { reportFromBody } from '../src/node/quotehelper/structs.js';
import { MIB, epcDevices } from '../src/node/sgx/resources.js';

const seconds = (from: bigint): number => Number(process.hrtime.bigint() - from) / 1e9;

function listAndWatch(): void {
  const type = deviceProtoRoot().lookupType('v1beta1.ListAndWatchResponse');
  const rounds = 5;
  let build = 0;
  let encode = 0;
  let size = 0;
  let advertised = 0;
  for (let i = 0; i < rounds; i++) {
    let t = process.hrtime.bigint();
    const list = epcDevices(512 * 1024 * MIB, true);
    build += seconds(t);
    t = process.hrtime.bigint();
    size = type.encode({ devices: list.devices }).finish().length;
    encode += seconds(t);
    advertised = list.advertisedMiB;
  }
  console.log(`ListAndWatch at 512 GiB EPC: ${size} bytes (${(size / MIB).toFixed(2)} MiB, limit 4 MiB), ${advertised} devices (MiB) advertised`);
  console.log(`  build list ${((build / rounds) * 1000).toFixed(1)} ms, encode ${((encode / rounds) * 1000).toFixed(1)} ms (mean of ${rounds})`);
}

function oneQuote(socket: string, request: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    s.on('error', reject);
    s.on('connect', () => {
      s.write(frame(request));
      readFrame(s, { maxBytes: 1 << 20, timeoutMs: 10_000 }).then((m) => {
        s.destroy();
        resolve(decodeResponse(m).getQuoteExRes?.errorCode ?? -1);
      }, reject);
    });
  });
}

async function quotes(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-aesm-'));
  const socket = join(dir, 'aesm.socket');
  const server = new AesmServer({ socket, backend: new SimQuoteBackend() });
  await server.start();
  try {
    const request = encodeRequest({ getQuoteExReq: { report: reportFromBody(Buffer.alloc(384, 1)), buf_size: 1 << 16 } });
    for (let i = 0; i < 20; i++) await oneQuote(socket, request);
    const duration = 3;
    const started = process.hrtime.bigint();
    let done = 0;
    let failed = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (seconds(started) < duration) {
        if ((await oneQuote(socket, request)) === 0) done++;
        else failed++;
      }
    }));
    console.log(`quotes through the AESM socket (sim): ${(done / seconds(started)).toFixed(0)} quotes/s (${done} in ${seconds(started).toFixed(1)} s, ${failed} failed)`);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

listAndWatch();
await quotes();
