import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient } from '../src/api-client';

/** A server answering each request with the next of `answers` (the last one again once they run out). */
async function serverAnswering(answers: Array<{ status: number; code?: string }>) {
  let served = 0;
  const server = http.createServer((_req, res) => {
    const a = answers[Math.min(served++, answers.length - 1)]!;
    res.writeHead(a.status, { 'content-type': 'application/json', ...(a.status === 503 ? { 'retry-after': '0' } : {}) });
    res.end(JSON.stringify(a.code ? { error: { code: a.code, message: 'x' } } : { ok: true }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, served: () => served, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('ApiClient', () => {
  it('tries again after a 503 OVERLOADED (the gateway shedding load), as the API tells clients to', async () => {
    const s = await serverAnswering([{ status: 503, code: 'OVERLOADED' }, { status: 503, code: 'OVERLOADED' }, { status: 200 }]);
    try {
      expect(await new ApiClient(s.url).expect(200, 'POST', '/v1/auth/login', {})).toEqual({ ok: true });
      expect(s.served()).toBe(3);
    } finally {
      await s.close();
    }
  });

  it('returns any other 503 at once, and a 503 OVERLOADED that persists after its last try', async () => {
    const other = await serverAnswering([{ status: 503, code: 'AUTH_UNAVAILABLE' }]);
    const busy = await serverAnswering([{ status: 503, code: 'OVERLOADED' }]);
    try {
      expect((await new ApiClient(other.url).call('GET', '/x')).status).toBe(503);
      expect(other.served()).toBe(1);
      expect((await new ApiClient(busy.url).call('GET', '/x')).status).toBe(503);
      expect(busy.served()).toBe(6);
    } finally {
      await Promise.all([other.close(), busy.close()]);
    }
  });
});
