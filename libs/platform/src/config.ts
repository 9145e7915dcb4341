import { z } from 'zod';

export { z };

/**
 * Parses the environment once at start. A missing or bad variable stops the process with a
 * message naming it (ARCHITECTURE section 12), instead of failing later in a request.
 */
export function loadConfig<S extends z.ZodRawShape>(
  shape: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Variables every service shares (docs/runtime-contract.md). */
export const commonEnv = {
  NODE_ENV: z.enum(['production', 'development', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The gRPC server and a backend's ops HTTP: all interfaces (a pod is reached on its pod IP); local runs pass 127.0.0.1. */
  GRPC_HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().url().optional(),
  DATABASE_REPLICA_URL: z.string().url().optional(),
  REDIS_URL: z.string().url().optional(),
  KAFKA_BROKERS: z.string().regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'expected host:port[,host:port…]').optional(),
};

/**
 * DATA_REGION: the data region this deployment serves (CH or EU; lower case accepted, as the chart's
 * `global.region`). Its databases, Redis and Kafka hold only that region's users.
 */
export const dataRegion = () =>
  z.preprocess((v) => (typeof v === 'string' && v !== '' ? v.toUpperCase() : undefined), z.enum(['CH', 'EU']).default('CH'));

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** A gRPC target such as `dns:///identity-headless:50051` or `127.0.0.1:50051`. */
export const grpcTarget = (fallback: string) => z.string().min(3).default(fallback);

/** The variables of a backend service: the common ones, its database and schema, its ports. */
export const backendEnv = (service: string, grpcPort: number, httpPort: number) => ({
  ...commonEnv,
  DATABASE_URL: z.string().url(),
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/).default(service),
  GRPC_PORT: port(grpcPort),
  HTTP_PORT: port(httpPort),
});
