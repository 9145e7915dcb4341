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
  /** Called when a delivery ends (delivered or given up), e.g. to save state. */
  onFinished?: () => void;
  /** Queue deliveries without sending them until resume() (e.g. until the receiver is up). */
  paused?: boolean;
}

/** What a delivery sends: enough to send it again after a restart. */
export type WebhookRequest = Pick<WebhookDelivery, 'url' | 'event' | 'invoiceId' | 'headers' | 'body'>;

export function hmacSha256Hex(secret: string, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** Faults of the provider's webhook sender, for fault-injection runs. */
export interface WebhookFaults {
  /** Every new delivery waits this long before its first attempt. */
  delayMs?: number;
  /** Every new delivery is sent this many extra times (the same bytes, as a provider's duplicate). */
  duplicates?: number;
}

export class WebhookDispatcher {
  readonly deliveries: WebhookDelivery[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly controllers = new Set<AbortController>();
  private closed = false;
  private gate: { opened: Promise<void>; open: () => void } | undefined;
  private faults: WebhookFaults = {};

  constructor(private readonly opts: WebhookDispatcherOptions) {
    if (opts.paused) this.pause();
  }

  /** Delays and/or duplicates the deliveries enqueued from now on ({} = none). */
  setFaults(faults: WebhookFaults): void {
    this.faults = { ...faults };
  }

  enqueue(input: WebhookRequest): WebhookDelivery {
    const { delayMs = 0, duplicates = 0 } = this.faults;
    for (let i = 0; i < duplicates; i++) this.start(input, delayMs);
    return this.start(input, delayMs);
  }

  private start(input: WebhookRequest, delayMs: number): WebhookDelivery {
    const delivery: WebhookDelivery = { id: randomUUID(), ...input, attempts: [], state: 'pending' };
    this.deliveries.push(delivery);
    const run = this.run(delivery, delayMs).finally(() => {
      this.pending.delete(run);
      if (!this.closed) this.opts.onFinished?.();
    });
    this.pending.add(run);
    return delivery;
  }

  /** Deliveries not yet delivered nor given up (queued, in flight, or waiting to retry). */
  unfinished(): WebhookRequest[] {
    return this.deliveries
      .filter((d) => d.state === 'pending')
      .map(({ url, event, invoiceId, headers, body }) => ({ url, event, invoiceId, headers, body }));
  }

  /** Holds new attempts (queued deliveries wait) until resume(). */
  pause(): void {
    if (this.gate) return;
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    this.gate = { opened, open };
  }

  resume(): void {
    this.gate?.open();
    this.gate = undefined;
  }

  /** Resolves once every delivery queued so far (including retries) has succeeded or given up. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  close(): void {
    this.closed = true;
    this.resume();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.controllers) c.abort();
    this.controllers.clear();
  }

  reset(): void {
    this.deliveries.length = 0;
    this.faults = {};
  }

  private async run(delivery: WebhookDelivery, delayMs: number): Promise<void> {
    const maxAttempts = this.opts.retryDelaysMs.length + 1;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const waitMs = attempt > 0 ? (this.opts.retryDelaysMs[attempt - 1] ?? 0) : delayMs;
      if ((attempt > 0 || delayMs > 0) && !(await this.wait(waitMs))) break;
      while (this.gate && !this.closed) await this.gate.opened;
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
