/** A fake vendor collateral service on loopback (Intel PCS / PCCS, AMD KDS) for the collateral tests. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Fake {
  server: Server;
  url: string;
  hits: Map<string, number>;
}

export interface Route {
  body: Buffer | string;
  headers?: Record<string, string>;
}

export function startFake(routes: (path: string) => Route | undefined): Promise<Fake> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes(req.url ?? '');
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, route.headers).end(route.body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits })));
}

export const stop = (fake: Fake): Promise<void> => new Promise((resolve) => fake.server.close(() => resolve()));
