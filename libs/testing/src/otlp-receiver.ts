import http from 'node:http';
import { gunzipSync } from 'node:zlib';

/** One span as the services exported it, flattened for assertions. */
export interface ReceivedSpan {
  /** `service.name` of the exporting process. */
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  attributes: Record<string, unknown>;
  links: Array<{ traceId: string; spanId: string }>;
  startMs: number;
  endMs: number;
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number;
}

const kinds: ReceivedSpan['kind'][] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}

function valueOf(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

function attributesOf(list: Array<{ key: string; value?: AnyValue }> | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]));
}

/** OTLP/JSON ids are hex; some encoders send base64: both become lowercase hex. */
function hexId(id: string | undefined, bytes: number): string | undefined {
  if (!id) return undefined;
  if (new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(id)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
}

const nanosToMs = (n: string | number | undefined) => Number(BigInt(n ?? 0) / 1_000_000n);

/**
 * A tiny OTLP/HTTP receiver (JSON encoding: `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`) on 127.0.0.1,
 * so that tests can collect the spans that separate service processes export, as a collector
 * would receive them.
 */
export async function startOtlpReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; requests: number; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const state = { requests: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      try {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        if (!String(req.headers['content-type'] ?? '').includes('json')) {
          res.writeHead(415, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'send http/json' }));
          return;
        }
        state.requests++;
        const payload = JSON.parse(body.toString('utf8')) as {
          resourceSpans?: Array<{
            resource?: { attributes?: Array<{ key: string; value?: AnyValue }> };
            scopeSpans?: Array<{ spans?: Array<Record<string, any>> }>;
          }>;
        };
        for (const rs of payload.resourceSpans ?? []) {
          const service = String(attributesOf(rs.resource?.attributes)['service.name'] ?? 'unknown');
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              spans.push({
                service,
                traceId: hexId(s.traceId, 16)!,
                spanId: hexId(s.spanId, 8)!,
                parentSpanId: hexId(s.parentSpanId || undefined, 8),
                name: s.name,
                kind: kinds[Number(s.kind ?? 0)] ?? 'unspecified',
                attributes: attributesOf(s.attributes),
                links: (s.links ?? []).map((l: { traceId: string; spanId: string }) => ({ traceId: hexId(l.traceId, 16)!, spanId: hexId(l.spanId, 8)! })),
                startMs: nanosToMs(s.startTimeUnixNano),
                endMs: nanosToMs(s.endTimeUnixNano),
                statusCode: Number(s.status?.code ?? 0),
              });
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (err) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(err) }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The environment that makes a service process export its spans to this receiver. */
export function otlpEnv(receiverUrl: string): Record<string, string> {
  return {
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    // Export soon after a span ends, so the test need not wait for the default 5 s batches.
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_TRACES_SAMPLER: 'always_on',
    OTEL_NODE_RESOURCE_DETECTORS: 'env,process',
  };
}
