import { SnapshotGate } from './snapshot-gate';
import { HttpError } from '../http-errors';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SnapshotGate', () => {
  it('runs at most maxActive at once and lets the others take turns, in order', async () => {
    const gate = new SnapshotGate({ maxActive: 2, maxWaiting: 10, maxWaitMs: 5_000 });
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        gate.run(async () => {
          running++;
          peak = Math.max(peak, running);
          order.push(i);
          await sleep(20);
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('refuses with 503 STREAMS_BUSY when too many wait, or one waits too long', async () => {
    const gate = new SnapshotGate({ maxActive: 1, maxWaiting: 1, maxWaitMs: 100 });
    let release!: () => void;
    const first = gate.run(() => new Promise<void>((r) => (release = r)));
    const waiting = gate.run(async () => 'second');
    const refused = await gate.run(async () => 'third').catch((err) => err);
    expect(refused).toBeInstanceOf(HttpError);
    expect(refused).toMatchObject({ statusCode: 503, code: 'STREAMS_BUSY' });
    // The waiting one runs out of time while the first still holds the only place.
    await expect(waiting).rejects.toMatchObject({ statusCode: 503, code: 'STREAMS_BUSY' });
    release();
    await first;
    // The place was given back: the gate is usable again.
    await expect(gate.run(async () => 'later')).resolves.toBe('later');
  });

  it('gives a place back when the work fails', async () => {
    const gate = new SnapshotGate({ maxActive: 1, maxWaiting: 0, maxWaitMs: 100 });
    await expect(gate.run(async () => Promise.reject(new Error('backend down')))).rejects.toThrow('backend down');
    await expect(gate.run(async () => 'next')).resolves.toBe('next');
  });
});
