// The baselines of the gateway's cost, run as a process of their own like the services: a bare
// fastify route and a bare grpc-js unary method, both answering a fixed search answer (the one the
// gateway gave for the same query) without doing any work. Started by bench/load.ts; prints
// "ready <httpPort> <grpcPort>" when both listen.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import Fastify from 'fastify';
import { search } from '@cryptocare/contracts';

async function main() {
  const answer = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { items: Array<Record<string, unknown>> };

  const http = Fastify({ logger: false });
  http.get('/search', async () => answer);
  await http.listen({ host: '127.0.0.1', port: 0 });
  const httpPort = (http.server.address() as { port: number }).port;

  const response = search.SearchProfessionalsResponse.fromPartial({ items: answer.items.map((item) => ({ ...item, distanceKm: (item.distanceKm as number | null) ?? undefined })) });
  const server = new grpc.Server();
  server.addService(search.SearchServiceService, {
    searchProfessionals: (_call: unknown, callback: grpc.sendUnaryData<search.SearchProfessionalsResponse>) => callback(null, response),
  } as unknown as grpc.UntypedServiceImplementation);
  const grpcPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
  process.stdout.write(`ready ${httpPort} ${grpcPort}\n`);
}

void main();
