import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import { AppError, fromServiceError, GrpcStatus, toServiceError } from './errors';
import { grpcMetrics } from './metrics';
import { rpcSpans } from './grpc-tracing';
import { context } from '@opentelemetry/api';
import './grpc-js-fixes'; // a finished client call lets go of its caller (see the module)

/**
 * Typed, promise-based gRPC on top of the ts-proto `grpc-js` output. A contract module (e.g.
 * `payment` from @cryptocare/contracts) exports `<Name>Service` (the method definitions) and, for
 * each RPC, `<Rpc>Request` / `<Rpc>Response` codecs (buf lint enforces those names); we look the
 * codecs up by name so handlers and callers may work with partial messages.
 */
interface MethodDefinition<Req, Res> {
  path: string;
  requestStream: false;
  responseStream: false;
  requestSerialize(value: Req): Buffer;
  requestDeserialize(value: Buffer): Req;
  responseSerialize(value: Res): Buffer;
  responseDeserialize(value: Buffer): Res;
}
type AnyDefinition = Record<string, MethodDefinition<any, any>>;
type RequestOf<M> = M extends MethodDefinition<infer Req, any> ? Req : never;
type ResponseOf<M> = M extends MethodDefinition<any, infer Res> ? Res : never;

type Builtin = Date | Function | Uint8Array | string | number | boolean | undefined;
export type DeepPartial<T> = T extends Builtin
  ? T
  : T extends Array<infer U>
    ? Array<DeepPartial<U>>
    : T extends {}
      ? { [K in keyof T]?: DeepPartial<T[K]> }
      : Partial<T>;

export interface CallContext {
  metadata: grpc.Metadata;
  /** Absolute deadline the caller gave, if any. */
  deadline: Date | undefined;
  logger: Logger;
}

export type ServiceHandlers<D extends AnyDefinition> = {
  [K in keyof D]: (request: RequestOf<D[K]>, ctx: CallContext) => Promise<DeepPartial<ResponseOf<D[K]>>>;
};

export type ServiceClient<D extends AnyDefinition> = {
  [K in keyof D]: (request: DeepPartial<RequestOf<D[K]>>, options?: CallOptions) => Promise<ResponseOf<D[K]>>;
};

export interface CallOptions {
  /** Milliseconds from now; defaults to the client's deadline. */
  deadlineMs?: number;
  metadata?: grpc.Metadata;
}

interface Codec {
  fromPartial(value: unknown): unknown;
}

function codecOf(contract: Record<string, unknown>, name: string): Codec {
  const codec = contract[name] as Codec | undefined;
  if (!codec || typeof codec.fromPartial !== 'function') throw new Error(`contract has no message ${name}`);
  return codec;
}

const rpcName = (def: MethodDefinition<unknown, unknown>) => def.path.slice(def.path.lastIndexOf('/') + 1);

export interface ServiceRegistration {
  name: string;
  definition: AnyDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

/**
 * Wraps async handlers into grpc-js unary handlers. This is where the server-side interceptors
 * live: deadline check, error → status mapping (with the machine code in metadata), logging and
 * the RED metrics of each RPC.
 */
type DefinitionIn<C, N extends string> = C[`${N}Service` & keyof C] extends AnyDefinition ? C[`${N}Service` & keyof C] : never;

export function defineService<C extends Record<string, any>, N extends string>(
  contract: C,
  serviceName: N,
  handlers: ServiceHandlers<DefinitionIn<C, N>>,
  logger: Logger,
): ServiceRegistration {
  type D = DefinitionIn<C, N>;
  const definition = contract[`${serviceName}Service`] as D;
  if (!definition) throw new Error(`contract has no service ${serviceName}`);
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const key of Object.keys(definition) as Array<keyof D & string>) {
    const method = definition[key]!;
    const rpc = rpcName(method);
    const response = codecOf(contract, `${rpc}Response`);
    const handler = handlers[key];
    const spans = rpcSpans(method.path);
    implementation[key] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const started = process.hrtime.bigint();
      const span = spans.server(call.metadata);
      const deadline = call.getDeadline();
      const deadlineAt = deadline instanceof Date ? deadline : Number.isFinite(deadline) ? new Date(Number(deadline)) : undefined;
      const finish = (code: GrpcStatus) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        grpcMetrics.observe(serviceName, rpc, code, seconds);
        span.end(code);
      };
      if (deadlineAt && deadlineAt.getTime() <= Date.now()) {
        finish(GrpcStatus.DEADLINE_EXCEEDED);
        callback({ code: GrpcStatus.DEADLINE_EXCEEDED, details: 'deadline already passed' });
        return;
      }
      const ctx: CallContext = { metadata: call.metadata, deadline: deadlineAt, logger };
      // The handler runs in the call's trace: its queries, events and log lines belong to it.
      context.with(span.context, () => handler(call.request as never, ctx)).then(
        (result) => {
          finish(GrpcStatus.OK);
          callback(null, response.fromPartial(result));
        },
        (error: unknown) => {
          const serviceError = toServiceError(error);
          finish(serviceError.code ?? GrpcStatus.INTERNAL);
          if (error instanceof AppError) logger.info({ rpc, code: error.code }, 'rpc refused');
          else logger.error({ rpc, err: error }, 'rpc failed');
          callback(serviceError);
        },
      );
    };
  }
  return { name: serviceName, definition, implementation };
}

export interface GrpcServerOptions {
  host: string;
  port: number;
  services: ServiceRegistration[];
  logger: Logger;
  /** Reflection helps grpcurl in development; it is off in production. */
  reflection: boolean;
  /** Forces clients to reconnect (and so rebalance) after this long. */
  maxConnectionAgeMs?: number;
}

export interface RunningGrpcServer {
  server: grpc.Server;
  port: number;
  health: HealthImplementation;
  /** Marks every service NOT_SERVING, stops accepting calls and waits for in-flight ones. */
  shutdown(graceMs?: number): Promise<void>;
}

export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const server = new grpc.Server({
    'grpc.max_connection_age_ms': options.maxConnectionAgeMs ?? 5 * 60_000,
    'grpc.max_connection_age_grace_ms': 30_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  });
  const statuses: Record<string, 'SERVING' | 'NOT_SERVING'> = { '': 'SERVING' };
  for (const s of options.services) {
    server.addService(s.definition as unknown as grpc.ServiceDefinition, s.implementation);
    statuses[fullServiceName(s.definition)] = 'SERVING';
  }
  const health = new HealthImplementation(statuses);
  health.addToServer(server);
  if (options.reflection) addReflection(server, options.logger);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  options.logger.info({ port }, 'gRPC server listening');
  return {
    server,
    port,
    health,
    async shutdown(graceMs = 10_000) {
      for (const name of Object.keys(statuses)) health.setStatus(name, 'NOT_SERVING');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

function fullServiceName(definition: AnyDefinition): string {
  const first = Object.values(definition)[0]!;
  return first.path.slice(1, first.path.lastIndexOf('/'));
}

function addReflection(server: grpc.Server, logger: Logger) {
  try {
    // Loaded lazily: reflection needs the .proto sources, which production images do not ship.
    const { ReflectionService } = require('@grpc/reflection') as typeof import('@grpc/reflection');
    const protoLoader = require('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
    const path = require('node:path') as typeof import('node:path');
    const fs = require('node:fs') as typeof import('node:fs');
    const root = path.resolve(__dirname, '../../../proto');
    const files = listProtos(fs, path, root).map((f) => path.relative(root, f));
    const definition = protoLoader.loadSync(files, { includeDirs: [root] });
    new ReflectionService(definition).addToServer(server);
  } catch (err) {
    logger.warn({ err }, 'gRPC reflection unavailable');
  }
}

function listProtos(fs: typeof import('node:fs'), path: typeof import('node:path'), dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return listProtos(fs, path, full);
    return entry.name.endsWith('.proto') ? [full] : [];
  });
}

export interface GrpcClientOptions {
  /** Default deadline of each call in milliseconds. */
  deadlineMs: number;
}

/**
 * A promise client for one service. `dns:///host:port` targets are balanced round-robin over every
 * address the name resolves to (the headless Service on Kubernetes); keepalive detects dead peers.
 */
export type GrpcClient<C, N extends string> = ServiceClient<DefinitionIn<C, N>> & { close(): void };

export function createGrpcClient<C extends Record<string, any>, N extends string>(
  contract: C,
  serviceName: N,
  target: string,
  options: GrpcClientOptions,
): GrpcClient<C, N> {
  type D = DefinitionIn<C, N>;
  const definition = contract[`${serviceName}Service`] as D;
  if (!definition) throw new Error(`contract has no service ${serviceName}`);
  const client = new grpc.Client(target, grpc.credentials.createInsecure(), {
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.enable_retries': 1,
  });
  const out: Record<string, unknown> = { close: () => client.close() };
  for (const key of Object.keys(definition)) {
    const method = definition[key]!;
    const request = codecOf(contract, `${rpcName(method)}Request`);
    const spans = rpcSpans(method.path);
    out[key] = (partial: unknown, callOptions: CallOptions = {}) =>
      new Promise((resolve, reject) => {
        const deadline = new Date(Date.now() + (callOptions.deadlineMs ?? options.deadlineMs));
        const metadata = callOptions.metadata?.clone() ?? new grpc.Metadata();
        const span = spans.client(metadata);
        client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request.fromPartial(partial), metadata, { deadline }, (err, value) => {
          span.end(err ? (err.code as GrpcStatus) : GrpcStatus.OK);
          if (err) reject(fromServiceError(err));
          else resolve(value);
        });
      });
  }
  return out as GrpcClient<C, N>;
}
