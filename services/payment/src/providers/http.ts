import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseRetryAfter, providerPolicy, TransientProviderError } from '@cryptocare/platform';
import { ProviderRequestError, WebhookSignatureError } from './provider';

export type ProviderPolicy = ReturnType<typeof providerPolicy>;

export interface ProviderPolicySettings {
  timeoutMs: number;
  /** Retries after the first attempt. */
  retries: number;
  initialDelayMs: number;
  breakAfter: number;
  halfOpenAfterMs: number;
}

export function policyFor(name: string, s: ProviderPolicySettings): ProviderPolicy {
  return providerPolicy({
    name,
    timeoutMs: s.timeoutMs,
    retries: s.retries,
    initialDelayMs: s.initialDelayMs,
    maxDelayMs: 5_000,
    breakAfter: s.breakAfter,
    halfOpenAfterMs: s.halfOpenAfterMs,
    concurrency: 50,
    queue: 200,
  });
}

/**
 * One JSON call through the provider's policy (bulkhead, breaker, retry honouring Retry-After,
 * timeout per attempt). 5xx and 429 are transient; any other non-2xx is a ProviderRequestError
 * (not retried). The error text carries the status and at most a short excerpt of the answer.
 */
export async function callJson<T>(policy: ProviderPolicy, provider: string, url: string, init: RequestInit): Promise<T> {
  return policy.execute(async ({ signal }: { signal: AbortSignal }) => {
    const res = await fetch(url, { ...init, signal, redirect: 'error' });
    if (res.status >= 500 || res.status === 429) {
      await res.body?.cancel().catch(() => undefined);
      throw new TransientProviderError(`${provider} answered ${res.status}`, res.status, parseRetryAfter(res.headers.get('retry-after')));
    }
    const text = await res.text();
    if (!res.ok) throw new ProviderRequestError(`${provider} answered ${res.status}: ${text.slice(0, 200)}`, res.status);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ProviderRequestError(`${provider} answered ${res.status} with a body that is not JSON`, res.status);
    }
  });
}

/** Checks `sha256=<hex HMAC-SHA256 of the raw body>` in constant time. */
export function verifyHmacSha256Header(rawBody: Buffer, header: string | undefined, secret: string): void {
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec((header ?? '').trim());
  if (!m) throw new WebhookSignatureError('missing or malformed signature header');
  const given = Buffer.from(m[1]!, 'hex');
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new WebhookSignatureError('signature does not match');
}

export function parseJsonObject(rawBody: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(rawBody.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export const trimSlash = (url: string) => url.replace(/\/+$/, '');
