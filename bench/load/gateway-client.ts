import { Pool } from 'undici';
import type { PhaseStats } from './route-stats';

export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Answer {
  status: number;
  body: any;
}

/**
 * The load generator's HTTP client of the gateway: keep-alive connection pools (undici), one per
 * gateway replica, taken in turn, as a load balancer in front of the replicas would. Every call is
 * recorded under its route label in the phase's stats (latency measured here, generator included).
 */
export class GatewayClient {
  private readonly pools: Pool[];
  private turn = 0;

  constructor(
    urls: string[],
    connectionsPerReplica: number,
    private readonly phase: () => PhaseStats,
  ) {
    this.pools = urls.map((url) => new Pool(url, { connections: connectionsPerReplica, keepAliveTimeout: 60_000 }));
  }

  async call(label: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, options: CallOptions = {}): Promise<Answer> {
    const stats = this.phase();
    const pool = this.pools[this.turn++ % this.pools.length]!;
    const started = performance.now();
    try {
      const res = await pool.request({
        method,
        path,
        headers: {
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...options.headers,
        },
        body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      const text = await res.body.text();
      const latencyMs = performance.now() - started;
      stats.route(label).record(latencyMs, res.statusCode);
      stats.timeline?.record(latencyMs, res.statusCode);
      return { status: res.statusCode, body: parse(text) };
    } catch {
      stats.route(label).failures++;
      return { status: 0, body: undefined };
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.close()));
  }
}

function parse(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

/**
 * The events of a booking's stream (server-sent events), each with the moment it arrived. `until`
 * resolves when an event of that name has come (or rejects after the timeout).
 */
export class EventStream {
  readonly arrivals = new Map<string, number>();
  private readonly controller = new AbortController();
  private waiters: Array<() => void> = [];

  constructor(pool: Pool, path: string, token: string) {
    void this.read(pool, path, token);
  }

  private async read(pool: Pool, path: string, token: string) {
    try {
      const res = await pool.request({ method: 'GET', path, headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` }, signal: this.controller.signal, bodyTimeout: 0 });
      let buffer = '';
      for await (const chunk of res.body) {
        buffer += chunk.toString();
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const name = /^event: (.*)$/m.exec(buffer.slice(0, end))?.[1];
          buffer = buffer.slice(end + 2);
          if (name && !this.arrivals.has(name)) this.arrivals.set(name, performance.now());
        }
        const waiting = this.waiters;
        this.waiters = [];
        waiting.forEach((wake) => wake());
      }
    } catch {
      // aborted by close(), or the stream broke: waiters time out
    }
  }

  async until(name: string, timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    while (!this.arrivals.has(name)) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no ${name} event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.arrivals.get(name)!;
  }

  close(): void {
    this.controller.abort();
  }
}
