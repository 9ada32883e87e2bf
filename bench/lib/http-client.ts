/**
 * Load client for bench/agent.ts, run as a separate process so its own work does not share the
 * server's event loop. argv: <url> <body file> <clients> <requests>. Keep-alive (undici's pool).
 * Prints one JSON line: requests, seconds, and how many answers were not HTTP 200.
 */
import { readFileSync } from 'node:fs';

const [url, bodyFile, clientsArg, totalArg] = process.argv.slice(2);
const body = readFileSync(bodyFile, 'utf8');
const clients = Number(clientsArg);
const total = Number(totalArg);

let bad = 0;
const one = async () => {
  const r = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  await r.arrayBuffer();
  if (r.status !== 200) bad++;
};
for (let i = 0; i < 50; i++) await one(); // warm-up: connections, server JIT
const started = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: clients }, async () => {
    for (let i = 0; i < total / clients; i++) await one();
  }),
);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(JSON.stringify({ requests: total, seconds, bad }));
