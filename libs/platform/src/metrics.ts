import client from 'prom-client';

/**
 * One Prometheus registry per process (in embedded mode all services share the process, so every
 * metric carries a `service` label). Buckets sit around the SLOs: p95 < 500 ms for the API,
 * < 2 s for the QR code and the meeting link, < 5 s for payment confirmation.
 */
export const registry = new client.Registry();
export { client as prom };

/** Requests and RPCs: 0.4 s (the plan's inflexion point) and 0.5 s (the SLO) are boundaries. */
export const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2, 5, 10];
/**
 * The business SLIs (QR code < 2 s, payment confirmation < 5 s, meeting link < 2 s): both
 * objectives are boundaries, so "share of bookings within the objective" is exact, with
 * resolution below and between them for the quantiles.
 */
export const sloBuckets = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 30, 60];

let defaultsCollected = false;
export function collectProcessMetrics(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
}

function metric<T>(name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

const grpcHistogram = metric(
  'grpc_server_handling_seconds',
  () =>
    new client.Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Duration of unary gRPC calls handled, by service, method and status code',
      labelNames: ['grpc_service', 'grpc_method', 'grpc_code'],
      buckets: latencyBuckets,
      registers: [registry],
    }),
);

/** gRPC status names as Prometheus conventions spell them (`grpc_code="NotFound"`). */
export const grpcCodeNames = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
] as const;

export const grpcMetrics = {
  observe(service: string, method: string, code: number, seconds: number) {
    grpcHistogram.labels(service, method, grpcCodeNames[code] ?? String(code)).observe(seconds);
  },
};

export function histogram(name: string, help: string, labelNames: string[], buckets = latencyBuckets) {
  return metric(name, () => new client.Histogram({ name, help, labelNames, buckets, registers: [registry] }));
}

export function counter(name: string, help: string, labelNames: string[] = []) {
  return metric(name, () => new client.Counter({ name, help, labelNames, registers: [registry] }));
}

export function gauge(name: string, help: string, labelNames: string[] = [], collect?: (this: client.Gauge) => void | Promise<void>) {
  return metric(name, () => new client.Gauge({ name, help, labelNames, registers: [registry], ...(collect ? { collect } : {}) }));
}
