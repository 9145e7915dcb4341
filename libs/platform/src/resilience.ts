import {
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleAll,
  handleWhen,
  halfJitterGenerator,
  retry,
  timeout,
  TimeoutStrategy,
  wrap,
  bulkhead,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
  type IPolicy,
  CircuitState,
  isTaskCancelledError,
} from 'cockatiel';
import { gauge } from './metrics';

export { CircuitState };

/** Thrown by provider adapters for an HTTP answer worth retrying (5xx, 429). */
export class TransientProviderError extends Error {
  override name = 'TransientProviderError';
  constructor(
    message: string,
    readonly status: number,
    /** From the provider's Retry-After header, when it sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Exponential backoff with jitter that waits at least as long as the provider's Retry-After. */
class RetryAfterBackoff implements IBackoffFactory<IRetryBackoffContext<unknown>> {
  constructor(
    private readonly inner: IBackoffFactory<unknown>,
    private readonly maxDelayMs: number,
  ) {}
  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    const base = this.inner.next(context);
    const result = context.result as { error?: unknown };
    const retryAfter = result && 'error' in result && result.error instanceof TransientProviderError ? result.error.retryAfterMs : undefined;
    const duration = Math.min(this.maxDelayMs, Math.max(base.duration, retryAfter ?? 0));
    const self = this;
    return {
      duration,
      next(ctx: IRetryBackoffContext<unknown>) {
        return new RetryAfterBackoff(base as unknown as IBackoffFactory<unknown>, self.maxDelayMs).next(ctx);
      },
    };
  }
}

const breakerState = gauge('circuit_breaker_state', 'Circuit breaker state: 0 closed, 1 half-open, 2 open', ['breaker']);
const stateValue: Record<CircuitState, number> = {
  [CircuitState.Closed]: 0,
  [CircuitState.HalfOpen]: 1,
  [CircuitState.Open]: 2,
  [CircuitState.Isolated]: 2,
};

export interface ProviderPolicyOptions {
  /** Name in metrics, e.g. "zoom". */
  name: string;
  /** Per attempt. */
  timeoutMs: number;
  /** Retries after the first call (so at most 1 + retries calls per policy execution). */
  retries: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Consecutive failures before the breaker opens. */
  breakAfter?: number;
  halfOpenAfterMs?: number;
  /** Concurrent calls allowed toward the provider, and queued beyond that. */
  concurrency?: number;
  queue?: number;
}

/**
 * Policies for calls to an outside provider: bulkhead → breaker → retry (exponential, jitter,
 * Retry-After) → timeout per attempt. Only transient failures are retried.
 */
export function providerPolicy(options: ProviderPolicyOptions): IPolicy & { breakerState(): CircuitState } {
  const transient = handleWhen(
    (err) => err instanceof TransientProviderError || isTaskCancelledError(err) || isNetworkError(err),
  );
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  const retryPolicy = retry(transient, {
    maxAttempts: options.retries, // cockatiel counts retries here, not calls
    backoff: new RetryAfterBackoff(new ExponentialBackoff({ initialDelay: options.initialDelayMs ?? 100, maxDelay: maxDelayMs }), maxDelayMs),
  });
  const breaker = circuitBreaker(transient, {
    halfOpenAfter: options.halfOpenAfterMs ?? 10_000,
    breaker: new ConsecutiveBreaker(options.breakAfter ?? 5),
  });
  breakerState.labels(options.name).set(0);
  breaker.onStateChange((state) => breakerState.labels(options.name).set(stateValue[state]));
  const policy = wrap(
    bulkhead(options.concurrency ?? 50, options.queue ?? 200),
    breaker,
    retryPolicy,
    timeout(options.timeoutMs, TimeoutStrategy.Aggressive),
  );
  return Object.assign(policy, { breakerState: () => breaker.state });
}

function isNetworkError(err: unknown): boolean {
  const code = (err as { code?: string; cause?: { code?: string } })?.cause?.code ?? (err as { code?: string })?.code;
  return typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'EPIPE'].includes(code);
}

export interface RedeliveryPolicyOptions {
  /** Calls in all (the first one included); the last failure is rethrown. */
  maxAttempts: number;
  /** Ceiling of the first retry's delay; each later one doubles, up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * Retries of work that may succeed when tried again a little later (e.g. an event handler whose
 * transaction hit a deadlock or a briefly unreachable database): every failure is retried, with
 * exponential backoff and half jitter (each delay between half and all of the exponential step),
 * so consumers that failed together do not all retry in the same millisecond.
 */
export function redeliveryPolicy(options: RedeliveryPolicyOptions) {
  return retry(handleAll, {
    maxAttempts: Math.max(0, options.maxAttempts - 1), // cockatiel counts retries, not calls
    backoff: new ExponentialBackoff({ initialDelay: options.initialDelayMs, maxDelay: options.maxDelayMs, generator: halfJitterGenerator }),
  });
}

/**
 * The delay before the `attempt`-th (0-based) try of something that keeps failing and is tried
 * again forever (e.g. restarting a crashed Kafka consumer): exponential, half jitter, capped.
 */
export function jitteredBackoffMs(attempt: number, options: { initialDelayMs: number; maxDelayMs: number }): number {
  return halfJitterGenerator(attempt, { initialDelay: options.initialDelayMs, maxDelay: options.maxDelayMs, exponent: 2, generator: halfJitterGenerator })[0];
}
