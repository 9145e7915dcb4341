/** Tries of one request the gateway refuses as busy (503 OVERLOADED), and the longest wait between two. */
const OVERLOADED_TRIES = 6;
const MAX_RETRY_WAIT_MS = 2_000;

/**
 * A small client of the public HTTP API, for end-to-end tests and the demo seed. Like any client
 * the API documents, it tries again after a 503 OVERLOADED (the gateway shedding load, e.g. while
 * several platforms start on a busy CI runner), after its Retry-After; other answers are returned
 * as they are.
 */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private token?: string,
  ) {}

  as(token: string): ApiClient {
    return new ApiClient(this.baseUrl, token);
  }

  async call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T; headers: Headers }> {
    for (let attempt = 1; ; attempt++) {
      const answer = await this.callOnce<T>(method, path, body, headers);
      const shed = answer.status === 503 && (answer.body as { error?: { code?: string } } | undefined)?.error?.code === 'OVERLOADED';
      if (!shed || attempt >= OVERLOADED_TRIES) return answer;
      const seconds = Number(answer.headers.get('retry-after') ?? 1);
      const retryAfterMs = (Number.isFinite(seconds) ? seconds : 1) * 1_000;
      await new Promise((r) => setTimeout(r, Math.min(MAX_RETRY_WAIT_MS, retryAfterMs) * (0.5 + Math.random() / 2)));
    }
  }

  private async callOnce<T>(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; body: T; headers: Headers }> {
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  /** Like call, but throws unless the status is the expected one. */
  async expect<T = any>(status: number, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    const res = await this.call<T>(method, path, body, headers);
    if (res.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Opens a server-sent event stream and collects its events until `close()`. */
  openEvents(path: string): { events: Array<{ event: string; data: any }>; close(): void; done: Promise<void> } {
    const controller = new AbortController();
    const events: Array<{ event: string; data: any }> = [];
    const done = (async () => {
      const res = await fetch(this.baseUrl + path, { headers: { accept: 'text/event-stream', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) }, signal: controller.signal });
      if (res.status !== 200 || !res.body) throw new Error(`event stream answered ${res.status}: ${await res.text()}`);
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event) events.push({ event, data: data ? JSON.parse(data) : undefined });
          }
        }
      } catch (err) {
        if ((err as Error).name !== 'AbortError') throw err;
      }
    })();
    done.catch(() => undefined);
    return { events, close: () => controller.abort(), done };
  }
}
