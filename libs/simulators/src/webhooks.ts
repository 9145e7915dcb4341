// Webhook delivery like a real provider: POST the exact same bytes, retry with backoff on non-2xx or network
// failure, keep a log of every attempt for test assertions.
import { createHmac, randomUUID } from 'node:crypto';

export interface DeliveryAttempt {
  /** ISO time the attempt started. */
  at: string;
  /** HTTP status answered, absent if the request failed (connection refused, timeout...). */
  status?: number;
  error?: string;
  durationMs: number;
}

export interface WebhookDelivery {
  id: string;
  url: string;
  /** Event name (BTCPay `type`, Swiss Bitcoin Pay invoice status). */
  event: string;
  invoiceId: string;
  headers: Record<string, string>;
  /** The exact body bytes (UTF-8) sent on every attempt. */
  body: string;
  attempts: DeliveryAttempt[];
  state: 'pending' | 'delivered' | 'failed';
}

export interface WebhookDispatcherOptions {
  /** Waits before each retry; attempts = retryDelaysMs.length + 1. */
  retryDelaysMs: number[];
  /** Per-attempt timeout. */
  timeoutMs: number;
}

export function hmacSha256Hex(secret: string, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

export class WebhookDispatcher {
  readonly deliveries: WebhookDelivery[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly controllers = new Set<AbortController>();
  private closed = false;

  constructor(private readonly opts: WebhookDispatcherOptions) {}

  enqueue(input: { url: string; event: string; invoiceId: string; headers: Record<string, string>; body: string }): WebhookDelivery {
    const delivery: WebhookDelivery = { id: randomUUID(), ...input, attempts: [], state: 'pending' };
    this.deliveries.push(delivery);
    const run = this.run(delivery).finally(() => this.pending.delete(run));
    this.pending.add(run);
    return delivery;
  }

  /** Resolves once every delivery queued so far (including retries) has succeeded or given up. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.controllers) c.abort();
    this.controllers.clear();
  }

  reset(): void {
    this.deliveries.length = 0;
  }

  private async run(delivery: WebhookDelivery): Promise<void> {
    const maxAttempts = this.opts.retryDelaysMs.length + 1;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      if (attempt > 0 && !(await this.wait(this.opts.retryDelaysMs[attempt - 1] ?? 0))) break;
      if (this.closed) break;
      if (await this.attempt(delivery)) {
        delivery.state = 'delivered';
        return;
      }
    }
    delivery.state = 'failed';
  }

  /** false if the dispatcher was closed while waiting */
  private wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.closed) return resolve(false);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve(!this.closed);
      }, ms);
      timer.unref();
      this.timers.add(timer);
    });
  }

  private async attempt(delivery: WebhookDelivery): Promise<boolean> {
    const started = Date.now();
    const record: DeliveryAttempt = { at: new Date(started).toISOString(), durationMs: 0 };
    delivery.attempts.push(record);
    const controller = new AbortController();
    this.controllers.add(controller);
    const timer = setTimeout(() => controller.abort(new Error(`timed out after ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
    timer.unref();
    try {
      const res = await fetch(delivery.url, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
        signal: controller.signal,
        redirect: 'manual',
      });
      record.status = res.status;
      await res.arrayBuffer().catch(() => undefined);
      return res.status >= 200 && res.status < 300;
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      record.error = (err instanceof Error ? err.message : String(err)) + cause;
      return false;
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
      record.durationMs = Date.now() - started;
    }
  }
}
