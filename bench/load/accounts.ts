import { ApiClient, currentConsents } from '@cryptocare/testing';
import type { Answer } from './gateway-client';

const PASSWORD = 'Bench-patient-passphrase-2026!';

/** A sign-up tried again found its account made by the try before. */
class AccountTaken extends Error {}

/**
 * The patients of a benchmark: a few hundred accounts shared by the virtual users (signing up or in
 * costs an argon2 hash; thousands of them would measure argon2, not the platform). Tokens expire
 * (15 min): a 401 signs the account in again, once for every user waiting on it.
 */
export class AccountPool {
  private readonly tokens: string[] = [];
  private readonly emails: string[] = [];
  private readonly signingIn = new Map<number, Promise<void>>();

  private constructor(private readonly api: ApiClient) {}

  static async create(gatewayUrl: string, size: number, run: string): Promise<AccountPool> {
    const pool = new AccountPool(new ApiClient(gatewayUrl));
    const parallel = 8;
    for (let from = 0; from < size; from += parallel) {
      await Promise.all(
        Array.from({ length: Math.min(parallel, size - from) }, async (_, i) => {
          const email = `bench-${run}-${from + i}@example.ch`;
          pool.emails[from + i] = email;
          try {
            const session = await pool.politely(201, 'POST', '/v1/auth/register', { email, password: PASSWORD, role: 'patient', displayName: `Bench patient ${from + i}`, consents: currentConsents() });
            pool.tokens[from + i] = session.accessToken;
          } catch (err) {
            // A sign-up that timed out at the gateway (504) may still have been made: tried again,
            // it is taken (409), and the account signs in instead.
            if (!(err instanceof AccountTaken)) throw err;
            await pool.signIn(from + i);
          }
        }),
      );
    }
    return pool;
  }

  /** A call as a well-behaved client makes it: a 503, 504 or 429 is tried again after its Retry-After (1 s without). */
  private async politely(status: number, method: string, path: string, body: unknown): Promise<any> {
    let retried = false;
    for (let attempt = 0; ; attempt++) {
      const answer = await this.api.call(method, path, body);
      if (answer.status === status) return answer.body;
      if (answer.status === 409 && retried) throw new AccountTaken();
      if (![429, 503, 504].includes(answer.status) || attempt >= 10) throw new Error(`${method} ${path}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`);
      retried = true;
      const retryAfter = Number(answer.headers.get('retry-after') ?? 1);
      await new Promise((resolve) => setTimeout(resolve, (Number.isFinite(retryAfter) ? retryAfter : 1) * 1000 * (0.5 + Math.random())));
    }
  }

  pick(): number {
    return Math.floor(Math.random() * this.tokens.length);
  }

  token(account: number): string {
    return this.tokens[account]!;
  }

  async authorised(account: number, call: (token: string) => Promise<Answer>): Promise<Answer> {
    const answer = await call(this.tokens[account]!);
    if (answer.status !== 401) return answer;
    await this.signIn(account);
    return call(this.tokens[account]!);
  }

  private signIn(account: number): Promise<void> {
    let pending = this.signingIn.get(account);
    if (!pending) {
      pending = this
        .politely(200, 'POST', '/v1/auth/login', { email: this.emails[account], password: PASSWORD })
        .then((session) => {
          this.tokens[account] = session.accessToken;
        })
        .finally(() => this.signingIn.delete(account));
      this.signingIn.set(account, pending);
    }
    return pending;
  }
}
