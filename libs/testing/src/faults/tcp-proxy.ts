// A small loopback TCP proxy for fault injection: put it between a service and PostgreSQL or Redis
// to add latency or cut every connection for a while. (Kafka cannot be cut this way: its clients
// reconnect to the broker's advertised listener, not to the address they were given.)
import net from 'node:net';

export interface TcpProxy {
  /** host:port clients connect to. */
  readonly address: { host: string; port: number };
  /** Delay added to every chunk in both directions (0 = none). */
  setLatencyMs(ms: number): void;
  /** Destroys every open connection and refuses new ones until restore(). */
  cut(): void;
  restore(): void;
  /** Connections accepted so far (for the figures). */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }, listen: { host?: string; port?: number } = {}): Promise<TcpProxy> {
  let latencyMs = 0;
  let cutOff = false;
  let accepted = 0;
  const sockets = new Set<net.Socket>();

  // Keeps order while delaying: each direction forwards its chunks one after the other.
  const pipeDelayed = (from: net.Socket, to: net.Socket) => {
    let queue = Promise.resolve();
    from.on('data', (chunk) => {
      if (latencyMs === 0) {
        queue = queue.then(() => void (to.destroyed || to.write(chunk)));
        return;
      }
      const wait = latencyMs;
      queue = queue.then(() => new Promise<void>((r) => setTimeout(r, wait))).then(() => void (to.destroyed || to.write(chunk)));
    });
    from.on('end', () => void queue.then(() => to.end()));
  };

  const server = net.createServer((client) => {
    if (cutOff) {
      client.destroy();
      return;
    }
    accepted++;
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    pipeDelayed(client, upstream);
    pipeDelayed(upstream, client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port ?? 0, listen.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    address: { host: listen.host ?? '127.0.0.1', port },
    setLatencyMs(ms) {
      latencyMs = Math.max(0, ms);
    },
    cut() {
      cutOff = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      cutOff = false;
    },
    get accepted() {
      return accepted;
    },
    async close() {
      cutOff = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
