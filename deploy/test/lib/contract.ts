// The runtime contract (docs/runtime-contract.md) and the architecture (shared ARCHITECTURE.md §2-§5),
// restated as data the deployment tests hold the chart to. When the contract changes, change this.

export interface ServiceContract {
  grpcPort?: number;
  /** HTTP_PORT: the gateway's public API; a backend's ops endpoint. */
  httpPort: number;
  /** Where /healthz, /readyz and /metrics answer (the gateway: OPS_PORT, a listener of its own). */
  opsPort: number;
  /** The variables naming its listen addresses; each must be all interfaces (0.0.0.0) in a pod. */
  listenHosts: string[];
  /** Who calls this service over gRPC. */
  callers: string[];
  /** Has a PostgreSQL schema and migrations. */
  migrations: boolean;
  /** Reaches outside the cluster: providers over HTTPS, or (identity) the SMTP relay. */
  internet: boolean;
  /** Uses Redis (and only then may reach it). */
  redis: boolean;
}

// The Kafka consumer groups and topics are not restated here: their one list is
// charts/cryptocare/files/consumers.json (read through @cryptocare/contracts; deploy/test/consumers.test.ts).
const backend = { listenHosts: ['GRPC_HOST'], migrations: true };
export const SERVICES: Record<string, ServiceContract> = {
  gateway: { httpPort: 8080, opsPort: 9090, listenHosts: ['HTTP_HOST', 'OPS_HOST'], callers: [], migrations: false, internet: false, redis: true },
  identity: { ...backend, grpcPort: 50051, httpPort: 9101, opsPort: 9101, callers: ['gateway'], internet: true, redis: true }, // the SMTP relay (ports 465/587)
  search: { ...backend, grpcPort: 50052, httpPort: 9102, opsPort: 9102, callers: ['gateway', 'appointment'], internet: false, redis: true },
  appointment: { ...backend, grpcPort: 50053, httpPort: 9103, opsPort: 9103, callers: ['gateway'], internet: false, redis: true },
  payment: { ...backend, grpcPort: 50054, httpPort: 9104, opsPort: 9104, callers: ['gateway'], internet: true, redis: false },
  video: { ...backend, grpcPort: 50055, httpPort: 9105, opsPort: 9105, callers: ['gateway'], internet: true, redis: true },
};

/** The contract of a service named in SERVICES; an unknown name is a mistake in the test, not a finding. */
export function contractOf(name: string): ServiceContract {
  const contract = SERVICES[name];
  if (!contract) throw new Error(`no runtime contract for service "${name}" (known: ${Object.keys(SERVICES).join(', ')})`);
  return contract;
}

export const TOPICS = [
  'identity.events.v1', 'search.events.v1', 'appointment.events.v1',
  'payment.events.v1', 'payment.webhooks.v1', 'video.events.v1', 'video.webhooks.v1', 'audit.events.v1',
];

/** Variables the contract says come from Secrets only. */
export const SECRET_KEYS = [
  'DATABASE_URL', 'DATABASE_REPLICA_URL', 'DATABASE_DIRECT_URL', 'REDIS_URL', 'KAFKA_BROKERS',
  'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'KAFKA_SASL_MECHANISM',
  'SBP_API_URL', 'SBP_API_KEY', 'SBP_API_SECRET', 'BTCPAY_URL', 'BTCPAY_API_KEY', 'BTCPAY_STORE_ID',
  'BTCPAY_WEBHOOK_SECRET', 'PUBLIC_BASE_URL', 'ZOOM_API_URL', 'ZOOM_OAUTH_URL', 'ZOOM_ACCOUNT_ID',
  'ZOOM_CLIENT_ID', 'ZOOM_CLIENT_SECRET', 'ZOOM_WEBHOOK_SECRET_TOKEN', 'JITSI_URL', 'JITSI_APP_ID', 'JITSI_APP_SECRET', 'JITSI_PRIVATE_KEY', 'JITSI_KID', 'JWT_ISSUER', 'STREAM_TICKET_SECRET',
  'SIGNING_KEY_ENCRYPTION_KEY', 'SIGNING_KEY_ENCRYPTION_KEYS_OLD', 'SMTP_URL',
];

/** Where Envoy Gateway runs the edge proxies (k8s/operators/install.sh installs it there). */
export const EDGE_NAMESPACE = 'envoy-gateway-system';

export const ENVIRONMENTS = ['staging', 'production'] as const;
export const REGIONS = ['ch', 'eu'] as const;
export type Env = (typeof ENVIRONMENTS)[number];
export type Region = (typeof REGIONS)[number];
export const TARGETS: Array<{ env: Env; region: Region; name: string }> = ENVIRONMENTS.flatMap((env) =>
  REGIONS.map((region) => ({ env, region, name: `${env}-${region}` })),
);

/** The plan's numbers. */
export const SLO = { cpuScaleAt: 70, p95AlertSeconds: 0.4, errorRatioAlert: 0.005 };
