// A tiny HTTP endpoint that records webhook calls with their raw body bytes, for tests.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** Parsed JSON body, undefined if it is not JSON. */
  json: unknown;
  /** Status this receiver answered. */
  answeredStatus: number;
}

export interface WebhookReceiver {
  /** e.g. http://127.0.0.1:41234/hook */
  url: string;
  readonly received: readonly ReceivedWebhook[];
  /** Resolves once `count` calls have been received (rejects after timeoutMs). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  /** Status codes to answer, in order; once exhausted every call gets 200. */
  respondWith(statuses: number[]): void;
  /** Forgets the calls received so far. */
  clear(): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(opts: { statuses?: number[]; path?: string } = {}): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  let statuses = [...(opts.statuses ?? [])];
  const waiters: { count: number; resolve: () => void }[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      let json: unknown;
      try {
        json = JSON.parse(rawBody.toString('utf8'));
      } catch {
        json = undefined;
      }
      const answeredStatus = statuses.shift() ?? 200;
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawBody, json, answeredStatus });
      res.writeHead(answeredStatus, { 'content-type': 'text/plain' }).end(answeredStatus < 300 ? 'ok' : 'error');
      for (const w of waiters.splice(0)) {
        if (received.length >= w.count) w.resolve();
        else waiters.push(w);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${opts.path ?? '/hook'}`,
    received,
    waitFor(count, timeoutMs = 3000) {
      if (received.length >= count) return Promise.resolve(received.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`webhook receiver: got ${received.length} of ${count} calls`)), timeoutMs);
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(received.slice());
          },
        });
      });
    },
    respondWith(next) {
      statuses = [...next];
    },
    clear() {
      received.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
