import { HttpError } from '../http-errors';

export interface SnapshotGateLimits {
  /** Snapshots read at the same time (each is two backend calls and maybe a QR code). */
  maxActive: number;
  /** Streams waiting for their turn beyond which a new one is refused at once. */
  maxWaiting: number;
  /** How long a stream waits for its turn before it is refused. */
  maxWaitMs: number;
}

export const defaultSnapshotGateLimits: SnapshotGateLimits = { maxActive: 32, maxWaiting: 5_000, maxWaitMs: 10_000 };

/**
 * Admission of event streams: when hundreds open at once (a deploy, a network blip) their
 * snapshot reads take turns instead of all racing their deadlines against each other. Time spent
 * waiting here does not count against a backend call's deadline; a stream that cannot get a turn
 * is refused with 503 STREAMS_BUSY (retryable), never left open and silent.
 */
export class SnapshotGate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limits: SnapshotGateLimits = defaultSnapshotGateLimits) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.enter();
    try {
      return await work();
    } finally {
      this.leave();
    }
  }

  private enter(): Promise<void> {
    if (this.active < this.limits.maxActive) {
      this.active++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.limits.maxWaiting) return Promise.reject(busy());
    return new Promise<void>((resolve, reject) => {
      const turn = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(turn);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(busy());
      }, this.limits.maxWaitMs);
      this.waiting.push(turn);
    });
  }

  /** Hands the place straight to the next waiting stream (so a newcomer cannot take it between). */
  private leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

const busy = () => new HttpError(503, 'STREAMS_BUSY', 'too many event streams are opening right now; retry shortly');
