import type * as grpc from '@grpc/grpc-js';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { GrpcStatus } from './errors';

/**
 * The spans of our gRPC calls (OpenTelemetry semantic conventions for RPC), made by the promise
 * client and the handler wrapper of grpc.ts rather than by @opentelemetry/instrumentation-grpc,
 * which patches grpc-js as a whole: counted with `BENCH_GC_READ=slots make bench-gc-per-read`, it
 * was nearly all of what the production runtime added to a backend's allocations per call
 * (bench/results/profile-2026-12-03-tracing.md). Without an SDK (tests, development) the API is a
 * no-op and these cost next to nothing. Health checks (grpc-health-check) are not traced.
 */
const tracer = trace.getTracer('@cryptocare/platform/grpc');

const metadataGetter: TextMapGetter<grpc.Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const values = metadata.get(key);
    return values.length === 0 ? undefined : values.map(String);
  },
};
const metadataSetter: TextMapSetter<grpc.Metadata> = { set: (metadata, key, value) => metadata.set(key, value) };

/** Status codes that mean the server failed (semantic conventions); the others are the caller's. */
const serverFaults = new Set([GrpcStatus.UNKNOWN, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.UNIMPLEMENTED, GrpcStatus.INTERNAL, GrpcStatus.UNAVAILABLE, GrpcStatus.DATA_LOSS]);

export interface RpcSpan {
  /** The context the call's work runs in (its span active). */
  context: Context;
  end(code: GrpcStatus): void;
}

function rpcSpan(span: Span, parent: Context, isServer: boolean): RpcSpan {
  return {
    context: trace.setSpan(parent, span),
    end(code) {
      span.setAttribute('rpc.grpc.status_code', code);
      if (code !== GrpcStatus.OK && (!isServer || serverFaults.has(code))) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}

/**
 * The spans of one method (`/package.Service/Method`), its name and attributes worked out once, when
 * the client or the service is built, not at every call.
 */
export function rpcSpans(path: string) {
  const slash = path.lastIndexOf('/');
  const name = path.slice(1);
  const attributes = { 'rpc.system': 'grpc', 'rpc.service': path.slice(1, slash), 'rpc.method': path.slice(slash + 1) };
  return {
    /** A call served, continuing the caller's trace from its metadata. */
    server(metadata: grpc.Metadata): RpcSpan {
      const parent = propagation.extract(ROOT_CONTEXT, metadata, metadataGetter);
      return rpcSpan(tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent), parent, true);
    },
    /** A call made, child of the active span; its trace context is written into `metadata`. */
    client(metadata: grpc.Metadata): RpcSpan {
      const parent = context.active();
      const span = rpcSpan(tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent), parent, false);
      propagation.inject(span.context, metadata, metadataSetter);
      return span;
    },
  };
}
