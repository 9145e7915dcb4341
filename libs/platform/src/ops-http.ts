import http from 'node:http';
import type { Logger } from 'pino';
import { collectProcessMetrics, registry } from './metrics';

export type ReadinessCheck = () => Promise<void>;

/**
 * The operations endpoint of a backend service: `/healthz` (liveness: the process answers),
 * `/readyz` (readiness: every dependency check passes) and `/metrics` (Prometheus).
 */
export async function startOpsServer(opts: {
  host: string;
  port: number;
  logger: Logger;
  readiness: Record<string, ReadinessCheck>;
  /** Checks that are reported but do not make the process unready (see checkReadiness). */
  advisory?: readonly string[];
  /** Refreshes gauges that are measured on scrape (e.g. the outbox backlog). */
  collect?: () => Promise<void>;
}): Promise<{ port: number; close(): Promise<void> }> {
  // Event-loop delay, CPU, heap, GC and handles of this process (once per process).
  collectProcessMetrics();
  const server = http.createServer(async (req, res) => {
    const url = req.url?.split('?')[0];
    if (url === '/healthz') return send(res, 200, { status: 'ok' });
    if (url === '/readyz') {
      const report = await checkReadiness(opts.readiness, opts.advisory);
      return send(res, report.ready ? 200 : 503, report);
    }
    if (url === '/metrics') {
      await opts.collect?.().catch((err) => opts.logger.warn({ err }, 'metrics collection failed'));
      res.writeHead(200, { 'content-type': registry.contentType });
      return res.end(await registry.metrics());
    }
    send(res, 404, { error: { code: 'NOT_FOUND', message: 'no such endpoint' } });
  });
  await new Promise<void>((resolve) => server.listen(opts.port, opts.host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  opts.logger.info({ port }, 'ops HTTP listening (/healthz /readyz /metrics)');
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * Runs every check. Those named in `advisory` are reported (and listed as `degraded`) without
 * making the process unready: a dependency every replica shares, whose loss the service survives
 * (Kafka: the outbox keeps events until it is back), must not take all replicas out at once.
 */
export async function checkReadiness(checks: Record<string, ReadinessCheck>, advisory: readonly string[] = []) {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await check();
        return [name, 'ok'] as const;
      } catch (err) {
        return [name, err instanceof Error ? err.message : 'failed'] as const;
      }
    }),
  );
  const failing = entries.filter(([, s]) => s !== 'ok').map(([name]) => name);
  return { ready: failing.every((name) => advisory.includes(name)), checks: Object.fromEntries(entries), degraded: failing.filter((name) => advisory.includes(name)) };
}

function send(res: http.ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
