// Where the services' traces go during a benchmark: the OpenTelemetry Collector's OTLP/HTTP
// receiver as the services see it (POST /v1/traces, answered 200 with an empty
// ExportTraceServiceResponse), keeping only how many exports and bytes arrived (GET /stats). A
// process of its own, like the services, so receiving costs neither the generator nor them.
// Started by bench/load.ts; prints "ready <port>" when it listens. Given a file (BENCH_TRACES_FILE,
// the services then export http/json), it also appends each export to it, one per line, for
// bench/traces-breakdown.ts.
import { appendFileSync } from 'node:fs';
import http from 'node:http';

const received = { exports: 0, bytes: 0 };
const keepIn = process.argv[2];

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received));
    return;
  }
  if (req.method !== 'POST' || req.url !== '/v1/traces') {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => {
    received.bytes += chunk.length;
    if (keepIn) chunks.push(chunk);
  });
  req.on('end', () => {
    received.exports += 1;
    if (keepIn) appendFileSync(keepIn, `${Buffer.concat(chunks).toString('utf8').replaceAll('\n', ' ')}\n`);
    const json = (req.headers['content-type'] ?? '').includes('json');
    res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : undefined);
  });
});

server.listen(0, '127.0.0.1', () => process.stdout.write(`ready ${(server.address() as { port: number }).port}\n`));
