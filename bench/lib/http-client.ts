/**
 * Load client for bench/agent.ts, run as a separate process so its own work does not share the
 * server's event loop. argv: <url> <body file> <clients> <requests>. Each of the `clients` loops sends
 * one POST at a time on its own keep-alive connection (a raw node:http Agent: fetch/undici cost about
 * 1 ms of client CPU per request, which on a 2-core machine is taken from the server it measures).
 * Prints `warm` once warmed up, then one JSON line: requests, seconds, answers that were not HTTP 200, and this process's CPU (ms).
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';

const [url, bodyFile, clientsArg, totalArg] = process.argv.slice(2);
const body = readFileSync(bodyFile);
const clients = Number(clientsArg);
const total = Number(totalArg);
const target = new URL(url);
const agent = new Agent({ keepAlive: true, maxSockets: clients, maxFreeSockets: clients });
const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };

let bad = 0;
const one = () =>
  new Promise<void>((done, fail) => {
    const req = request({ agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers }, (res) => {
      if (res.statusCode !== 200) bad++;
      res.on('data', () => undefined);
      res.on('end', done);
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(body);
  });
// Warm-up, from every client at once so that every query worker gets its share: connections, and the
// server's JIT (a server runs for long; its first decisions are measured by `npm run bench rego`).
const loop = (n: number) => Promise.all(Array.from({ length: clients }, async () => {
  for (let i = 0; i < n / clients; i++) await one();
}));
await loop(Number(process.env.BENCH_WARMUP ?? 2000));
// The server's process starts counting its CPU at this line, so warm-up is not in its figure.
process.stdout.write('warm\n');
const cpu = process.cpuUsage();
const started = process.hrtime.bigint();
await loop(total);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const used = process.cpuUsage(cpu);
agent.destroy();
console.log(JSON.stringify({ requests: total, seconds, bad, cpuMs: (used.user + used.system) / 1000 }));
