// Load shedding by the bound on requests in flight (src/overload.ts): what is refused, what never
// is, that the gateway accepts again once the load is gone, and the metric that counts it.
// Behaviour only: the load is a backend that does not answer until the test lets it.
import { registry } from '@cryptocare/platform';
import { standInGateway } from './support/stand-in-gateway';

type Gateway = Awaited<ReturnType<typeof standInGateway>>;

async function shedCount(reason: string): Promise<number> {
  const metric = (await registry.getSingleMetric('http_server_shed_requests_total')?.get())?.values ?? [];
  return metric.find((v) => v.labels.reason === reason)?.value ?? 0;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error(`never happened: ${what}`);
}

describe('load shedding at the in-flight bound', () => {
  let gateway: Gateway;
  let base: string;
  /** Answers every held listSpecialties call. */
  let releaseAll: () => void;
  let held = 0;

  beforeAll(async () => {
    gateway = await standInGateway({ maxInFlight: 2 });
    await gateway.app.listen({ host: '127.0.0.1', port: 0 });
    const address = gateway.app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(() => gateway.close());

  beforeEach(() => {
    gateway.reset();
    held = 0;
    let waiters: Array<() => void> = [];
    releaseAll = () => {
      for (const w of waiters) w();
      waiters = [];
    };
    gateway.behaviour['search.listSpecialties'] = () => {
      held += 1;
      return new Promise((resolve) => waiters.push(() => resolve({ specialties: [{ code: 'cardiology', name: 'Cardiology' }] })));
    };
  });

  /** Two requests that fill the bound, held by the backend until releaseAll(). */
  async function fillTheBound() {
    const pending = [fetch(`${base}/v1/specialties`), fetch(`${base}/v1/specialties`)];
    await until(() => held === 2, 'both requests reached the backend');
    return pending;
  }

  it('refuses the request beyond the bound with 503 OVERLOADED, Retry-After, and counts it', async () => {
    const before = await shedCount('in_flight');
    const pending = await fillTheBound();

    const refused = await fetch(`${base}/v1/specialties`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toEqual({ error: { code: 'OVERLOADED', message: expect.any(String) } });
    // Refused before routing to the backend: it never saw a third call.
    expect(held).toBe(2);
    expect(await shedCount('in_flight')).toBe(before + 1);

    releaseAll();
    for (const response of await Promise.all(pending)) expect(response.status).toBe(200);
  });

  it('refuses at the bound before fastify builds the request (no hook, no route timing), with a request id', async () => {
    const timed = async () => {
      const metric = (await registry.getSingleMetric('http_server_request_duration_seconds')?.get())?.values ?? [];
      return metric.filter((v) => (v as { metricName?: string }).metricName?.endsWith('_count') && v.labels.status_code === '503').reduce((sum, v) => sum + v.value, 0);
    };
    const pending = await fillTheBound();
    const timedBefore = await timed();
    const shedBefore = await shedCount('in_flight');

    const refused = await Promise.all([
      fetch(`${base}/v1/specialties?x=1`, { headers: { 'x-request-id': 'client-chosen-id' } }),
      fetch(`${base}/v1/professionals/00000000-0000-4000-8000-000000000000`, { headers: { 'x-request-id': 'an id with spaces' } }),
      fetch(`${base}/no-such-route`),
    ]);
    expect(refused.map((r) => r.status)).toEqual([503, 503, 503]);
    expect(refused.map((r) => r.headers.get('retry-after'))).toEqual(['5', '5', '5']);
    expect(refused[0]!.headers.get('x-request-id')).toBe('client-chosen-id');
    expect(refused[1]!.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    for (const r of refused) expect(await r.json()).toEqual({ error: { code: 'OVERLOADED', message: expect.any(String) } });
    expect(await shedCount('in_flight')).toBe(shedBefore + 3);
    // fastify's onResponse hook times every request it served: these three it never saw.
    expect(await timed()).toBe(timedBefore);

    releaseAll();
    await Promise.all(pending);
  });

  it('never sheds liveness, even with the bound reached', async () => {
    const pending = await fillTheBound();
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await fetch(`${base}/v1/specialties`).then((r) => r.status)).toBe(503);
    releaseAll();
    await Promise.all(pending);
  });

  it('never sheds a provider webhook (a refused one waits for the provider to retry: payments confirm late)', async () => {
    gateway.behaviour['payment.ingestWebhook'] = async () => ({ accepted: true });
    const pending = await fillTheBound();
    const webhook = await fetch(`${base}/webhooks/swiss-bitcoin-pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(webhook.status).toBe(200); // reached payment, not refused at the bound
    expect(await fetch(`${base}/v1/specialties`).then((r) => r.status)).toBe(503);
    releaseAll();
    await Promise.all(pending);
  });

  it('accepts again once the load is gone, also after clients gave up mid-request', async () => {
    // Clients that hang up while the backend holds their request must free their place too.
    const aborts = [new AbortController(), new AbortController()];
    const abandoned = aborts.map((a) => fetch(`${base}/v1/specialties`, { signal: a.signal }).catch(() => 'aborted'));
    await until(() => held === 2, 'both requests reached the backend');
    expect(await fetch(`${base}/v1/specialties`).then((r) => r.status)).toBe(503);
    for (const a of aborts) a.abort();
    expect(await Promise.all(abandoned)).toEqual(['aborted', 'aborted']);

    // The places are free once the connections are closed; the backend still holds the two calls.
    gateway.behaviour['search.listSpecialties'] = async () => ({ specialties: [{ code: 'dermatology', name: 'Dermatology' }] });
    let accepted: Response | undefined;
    for (let i = 0; i < 100 && accepted?.status !== 200; i++) {
      accepted = await fetch(`${base}/v1/specialties`);
      if (accepted.status !== 200) await new Promise((r) => setTimeout(r, 20));
    }
    expect(accepted?.status).toBe(200);
    expect(await accepted!.json()).toEqual({ items: [{ code: 'dermatology', name: 'Dermatology' }] });
    releaseAll();

    // And the whole bound is available again: two at once are accepted.
    const both = await Promise.all([fetch(`${base}/v1/specialties`), fetch(`${base}/v1/specialties`)]);
    expect(both.map((r) => r.status)).toEqual([200, 200]);
  });
});

describe('without a bound', () => {
  it('serves any number of requests at once (MAX_IN_FLIGHT=0)', async () => {
    const gateway = await standInGateway({ maxInFlight: 0 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let held = 0;
    gateway.behaviour['search.listSpecialties'] = async () => {
      held += 1;
      await gate;
      return { specialties: [{ code: 'cardiology', name: 'Cardiology' }] };
    };
    const pending = Array.from({ length: 20 }, () => gateway.app.inject({ method: 'GET', url: '/v1/specialties' }));
    await until(() => held === 20, 'all twenty reached the backend');
    release();
    expect((await Promise.all(pending)).map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    await gateway.close();
  });
});
