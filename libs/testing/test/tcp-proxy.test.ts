import net from 'node:net';
import { startTcpProxy, type TcpProxy } from '../src/faults/tcp-proxy';

/** Sends `text` and collects what comes back until `expected` bytes arrived or the socket closed. */
function exchange(port: number, text: string, expected: number): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    s.on('data', (c) => {
      data += c.toString();
      if (data.length >= expected) {
        s.destroy();
        resolve({ data, closed: false });
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => resolve({ data, closed: true }));
    s.write(text);
  });
}

describe('fault-injection TCP proxy', () => {
  let echo: net.Server;
  let proxy: TcpProxy;
  const open = new Set<net.Socket>();

  beforeAll(async () => {
    echo = net.createServer((s) => {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    proxy = await startTcpProxy({ host: '127.0.0.1', port: (echo.address() as net.AddressInfo).port });
  });
  afterAll(async () => {
    await proxy.close();
    for (const s of open) s.destroy();
    await new Promise((r) => echo.close(r));
  });

  it('forwards both ways, in order, also with latency', async () => {
    expect(await exchange(proxy.address.port, 'hello', 5)).toEqual({ data: 'hello', closed: false });
    proxy.setLatencyMs(20);
    const long = Array.from({ length: 50 }, (_, i) => `${i};`).join('');
    expect((await exchange(proxy.address.port, long, long.length)).data).toBe(long);
    proxy.setLatencyMs(0);
  });

  it('cut drops open connections and refuses new ones until restored', async () => {
    const held = net.connect(proxy.address.port, '127.0.0.1');
    const closed = new Promise<void>((r) => held.on('close', () => r()));
    held.on('error', () => undefined);
    await new Promise<void>((r) => held.on('connect', () => r()));
    await exchange(proxy.address.port, 'x', 1); // the proxy has accepted `held` by now
    proxy.cut();
    await closed;
    expect(await exchange(proxy.address.port, 'during', 6)).toEqual({ data: '', closed: true });
    proxy.restore();
    expect(await exchange(proxy.address.port, 'after', 5)).toEqual({ data: 'after', closed: false });
  });
});
