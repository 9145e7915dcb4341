import type { Cache } from '@cryptocare/cache';
import { parseRetryAfter, providerPolicy, TransientProviderError, type Logger } from '@cryptocare/platform';
import { HostQuotaExhaustedError, ProviderRejectedError, type MeetingProvider, type MeetingRequest, type ProviderMeeting } from './meeting-provider';

/** Where the access token lives, shared by the replicas through the Cache. */
export const ZOOM_TOKEN_KEY = 'zoom:token';
/** A cached token is dropped this long before Zoom says it expires. */
const TOKEN_MARGIN_SECONDS = 60;

export interface ZoomPolicy {
  /** Per attempt. */
  timeoutMs: number;
  /** Retries after the first attempt, for transient answers (429, 5xx, network). */
  retries: number;
  initialDelayMs: number;
  /** Longest wait between attempts; a Retry-After beyond it is not waited for (see below). */
  maxDelayMs: number;
  /** Consecutive failed calls (each after its retries) that open the breaker. */
  breakAfter: number;
  halfOpenAfterMs: number;
  concurrency: number;
  queue: number;
}

/**
 * Sized for the "meeting link < 2 s" objective: a few quick retries, then the caller falls back
 * to Jitsi; the breaker makes later calls fall back at once while Zoom is down.
 */
export const defaultZoomPolicy: ZoomPolicy = {
  timeoutMs: 3_000,
  retries: 2,
  initialDelayMs: 200,
  maxDelayMs: 5_000,
  breakAfter: 5,
  halfOpenAfterMs: 30_000,
  concurrency: 10,
  queue: 100,
};

export interface ZoomOptions {
  /** Zoom's documented API base URL, https://api.zoom.us/v2 (a base without /v2 is accepted too). */
  apiUrl: string;
  /** Zoom's documented token endpoint, https://zoom.us/oauth/token (a bare origin is accepted too). */
  oauthUrl: string;
  accountId: string;
  clientId: string;
  clientSecret: string;
  cache: Cache;
  logger: Logger;
  policy?: Partial<ZoomPolicy>;
}

/** Zoom answered 401: the token expired or was revoked. Not retried by the policy. */
class ZoomUnauthorizedError extends Error {
  override name = 'ZoomUnauthorizedError';
}

interface ZoomMeetingJson {
  id?: number | string;
  join_url?: string;
  start_url?: string;
  password?: string;
}

interface ZoomTokenJson {
  access_token?: string;
  expires_in?: number;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

interface ZoomUserJson {
  id?: string;
}

/** Zoom's documented production values (developers.zoom.us: "Using Zoom APIs", "Server-to-Server OAuth"). */
export const ZOOM_API_BASE_URL = 'https://api.zoom.us/v2';
export const ZOOM_TOKEN_URL = 'https://zoom.us/oauth/token';

export interface ZoomEndpoints {
  /** The API base, ending in /v2, without a trailing slash: paths like `/users/{userId}/meetings` follow it. */
  api: string;
  /** The token endpoint, ending in /oauth/token. */
  token: string;
}

/**
 * Where the adapter sends its calls. The configured values are Zoom's documented ones (the API
 * base URL with its /v2, the full token endpoint); a bare origin (https://api.zoom.us, https://zoom.us,
 * or a simulator's http://127.0.0.1:port) gets the missing path added, so that neither form ends up
 * calling /v2/v2/... or /oauth/token/oauth/token.
 */
export function zoomEndpoints(apiUrl: string, oauthUrl: string): ZoomEndpoints {
  const withPath = (value: string, suffix: string) => {
    const url = new URL(value);
    const path = url.pathname.replace(/\/+$/, '');
    return `${url.origin}${path.endsWith(suffix) ? path : `${path}${suffix}`}`;
  };
  return { api: withPath(apiUrl, '/v2'), token: withPath(oauthUrl, '/oauth/token') };
}

/** Zoom's start_time format: UTC, no fraction. */
const zoomTime = (at: Date) => at.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Zoom through its REST API v2 with Server-to-Server OAuth. Every call (token included) goes
 * through `providerPolicy`: per-attempt timeout, retries with exponential backoff and jitter that
 * wait at least the provider's Retry-After, a circuit breaker and a bulkhead. The access token is
 * cached until shortly before it expires, and refreshed once when Zoom answers 401.
 */
export class ZoomMeetingProvider implements MeetingProvider {
  readonly name = 'zoom' as const;
  private readonly policy: ReturnType<typeof providerPolicy>;
  private readonly settings: ZoomPolicy;
  private readonly endpoints: ZoomEndpoints;
  private tokenLoad: Promise<string> | undefined;

  constructor(private readonly options: ZoomOptions) {
    this.settings = { ...defaultZoomPolicy, ...options.policy };
    this.endpoints = zoomEndpoints(options.apiUrl, options.oauthUrl);
    this.policy = providerPolicy({
      name: 'zoom',
      timeoutMs: this.settings.timeoutMs,
      // cockatiel counts retries here, not attempts.
      retries: this.settings.retries,
      initialDelayMs: this.settings.initialDelayMs,
      maxDelayMs: this.settings.maxDelayMs,
      breakAfter: this.settings.breakAfter,
      halfOpenAfterMs: this.settings.halfOpenAfterMs,
      concurrency: this.settings.concurrency,
      queue: this.settings.queue,
    });
  }

  /** 0 closed, 1 half-open, 2 open (cockatiel's CircuitState). */
  breakerState() {
    return this.policy.breakerState();
  }

  async createMeeting(request: MeetingRequest): Promise<ProviderMeeting> {
    const host = request.hostUserId ?? 'me';
    const meeting = await this.authorized<ZoomMeetingJson>('POST', `/users/${encodeURIComponent(host)}/meetings`, {
      topic: request.topic,
      type: 2, // scheduled
      start_time: zoomTime(request.startAt),
      duration: request.durationMinutes,
      timezone: request.timeZone,
      settings: {
        waiting_room: true,
        join_before_host: false,
        approval_type: 2, // no registration
        meeting_authentication: false,
        host_video: true,
        participant_video: true,
        mute_upon_entry: false,
        audio: 'voip',
        auto_recording: 'none',
        private_meeting: true,
        email_notification: false,
      },
    });
    if (!meeting || (typeof meeting.id !== 'number' && typeof meeting.id !== 'string') || !meeting.join_url || !meeting.start_url) {
      throw new ProviderRejectedError('Zoom created a meeting without id, join_url or start_url');
    }
    return { providerMeetingId: String(meeting.id), joinUrl: meeting.join_url, hostUrl: meeting.start_url, password: meeting.password ?? '' };
  }

  /**
   * The host's link as Zoom issues it now: a start_url works for 2 hours after it is made, so the
   * one stored at creation is dead for any booking further ahead (GET /v2/meetings/{meetingId}).
   */
  async freshHostUrl(providerMeetingId: string): Promise<string> {
    if (!/^\d{1,20}$/.test(providerMeetingId)) throw new ProviderRejectedError(`not a Zoom meeting id: ${providerMeetingId}`);
    const meeting = await this.authorized<ZoomMeetingJson>('GET', `/meetings/${providerMeetingId}`, undefined);
    if (!meeting?.start_url) throw new ProviderRejectedError('Zoom answered a meeting without start_url');
    return meeting.start_url;
  }

  /**
   * The Zoom user with this email, created when missing (POST /v2/users, action custCreate: a
   * licensed user the API manages, with no invitation mail and no sign-in of its own). Returns its id.
   */
  async ensureUser(email: string, displayName: string): Promise<string> {
    try {
      const created = await this.authorized<ZoomUserJson>('POST', '/users', {
        action: 'custCreate',
        user_info: { email, type: 2, first_name: 'CryptoCare', last_name: 'Host', display_name: displayName },
      });
      if (typeof created?.id === 'string' && created.id) return created.id;
      throw new ProviderRejectedError('Zoom created a user without id');
    } catch (err) {
      // 409 (code 1005): the user exists (an earlier attempt, or made by hand): link it.
      if (!(err instanceof ProviderRejectedError && err.status === 409)) throw err;
      const existing = await this.authorized<ZoomUserJson>('GET', `/users/${encodeURIComponent(email)}`, undefined);
      if (typeof existing?.id !== 'string' || !existing.id) throw new ProviderRejectedError('Zoom answered a user without id');
      return existing.id;
    }
  }

  /**
   * Deletes a Zoom user video made (DELETE /v2/users/{userId}?action=delete: the user and their
   * meetings go, not just their link to the account); a user Zoom no longer knows is gone already.
   */
  async deleteUser(zoomUserId: string): Promise<void> {
    try {
      await this.authorized('DELETE', `/users/${encodeURIComponent(zoomUserId)}?action=delete`, undefined);
    } catch (err) {
      if (err instanceof ProviderRejectedError && err.status === 404) return;
      throw err;
    }
  }

  /** The id of the Zoom user with this id or email; undefined when the account has no such user. */
  async findUser(idOrEmail: string): Promise<string | undefined> {
    try {
      const user = await this.authorized<ZoomUserJson>('GET', `/users/${encodeURIComponent(idOrEmail)}`, undefined);
      return typeof user?.id === 'string' && user.id ? user.id : undefined;
    } catch (err) {
      if (err instanceof ProviderRejectedError && err.status === 404) return undefined;
      throw err;
    }
  }

  /**
   * Moves a meeting to another time (PATCH /v2/meetings/{meetingId}, 204): its links stay. Zoom
   * counts an update like a creation in its host's 100 a day.
   */
  async updateMeeting(providerMeetingId: string, request: Pick<MeetingRequest, 'startAt' | 'durationMinutes' | 'timeZone'>): Promise<void> {
    if (!/^\d{1,20}$/.test(providerMeetingId)) throw new ProviderRejectedError(`not a Zoom meeting id: ${providerMeetingId}`);
    await this.authorized('PATCH', `/meetings/${providerMeetingId}`, { start_time: zoomTime(request.startAt), duration: request.durationMinutes, timezone: request.timeZone });
  }

  async deleteMeeting(providerMeetingId: string): Promise<void> {
    if (!/^\d{1,20}$/.test(providerMeetingId)) throw new ProviderRejectedError(`not a Zoom meeting id: ${providerMeetingId}`);
    await this.authorized('DELETE', `/meetings/${providerMeetingId}`, undefined);
  }

  /** One call with the current token; on 401, one more with a fresh token. */
  private async authorized<T>(method: Method, path: string, body: unknown): Promise<T | undefined> {
    const token = await this.accessToken();
    try {
      return await this.request<T>(method, path, token, body);
    } catch (err) {
      if (!(err instanceof ZoomUnauthorizedError)) throw err;
      await this.forgetToken(token);
      const fresh = await this.accessToken();
      try {
        return await this.request<T>(method, path, fresh, body);
      } catch (again) {
        if (again instanceof ZoomUnauthorizedError) throw new ProviderRejectedError('Zoom refused a freshly issued access token', 401);
        throw again;
      }
    }
  }

  private request<T>(method: Method, path: string, token: string, body: unknown): Promise<T | undefined> {
    const what = `Zoom ${method} /v2${path.startsWith('/meetings/') ? '/meetings/{id}' : path.startsWith('/users/') ? '/users/{userId}' + (path.endsWith('/meetings') ? '/meetings' : '') : path}`;
    return this.policy.execute(async ({ signal }) => {
      const response = await fetch(`${this.endpoints.api}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal,
      });
      const text = await response.text();
      if (response.ok) return (method === 'DELETE' || !text ? undefined : JSON.parse(text)) as T | undefined;
      // Deleting a meeting Zoom no longer knows (deleted before, or ended long ago) is done.
      if (method === 'DELETE' && response.status === 404 && path.startsWith('/meetings/')) return undefined;
      const detail = errorDetail(text);
      if (response.status === 401) throw new ZoomUnauthorizedError(`${what}: 401 ${detail.message}`);
      if (response.status === 429 && /daily/i.test(response.headers.get('x-ratelimit-type') ?? '')) {
        const host = /^\/users\/([^/]+)\/meetings$/.exec(path)?.[1];
        throw new HostQuotaExhaustedError(`${what}: 429 ${detail.message}`, host ? decodeURIComponent(host) : 'me');
      }
      throw this.failure(what, response, detail);
    });
  }

  /** The cached token, else a new one (one request per process at a time). */
  private async accessToken(): Promise<string> {
    const cached = await this.options.cache.get<{ accessToken: string }>(ZOOM_TOKEN_KEY).catch(() => undefined);
    if (cached?.accessToken) return cached.accessToken;
    this.tokenLoad ??= this.requestToken().finally(() => {
      this.tokenLoad = undefined;
    });
    return this.tokenLoad;
  }

  /** Forgets `token` unless another replica already replaced it. */
  private async forgetToken(token: string): Promise<void> {
    try {
      const cached = await this.options.cache.get<{ accessToken: string }>(ZOOM_TOKEN_KEY);
      if (cached?.accessToken === token) await this.options.cache.del(ZOOM_TOKEN_KEY);
    } catch {
      // A cache outage: the next read misses anyway.
    }
  }

  private async requestToken(): Promise<string> {
    const { accountId, clientId, clientSecret } = this.options;
    const url = `${this.endpoints.token}?grant_type=account_credentials&account_id=${encodeURIComponent(accountId)}`;
    const what = 'Zoom POST /oauth/token';
    const json = await this.policy.execute(async ({ signal }) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, accept: 'application/json' },
        signal,
      });
      const text = await response.text();
      if (!response.ok) throw this.failure(what, response, errorDetail(text));
      return JSON.parse(text) as ZoomTokenJson;
    });
    if (typeof json.access_token !== 'string' || !json.access_token) throw new ProviderRejectedError(`${what}: answer without access_token`);
    const ttl = Math.floor((typeof json.expires_in === 'number' ? json.expires_in : 0) - TOKEN_MARGIN_SECONDS);
    if (ttl > 0) {
      await this.options.cache
        .set(ZOOM_TOKEN_KEY, { accessToken: json.access_token }, ttl)
        .catch((err: unknown) => this.options.logger.warn({ err: String(err) }, 'could not cache the Zoom access token'));
    }
    return json.access_token;
  }

  /**
   * 429 and 5xx are transient (retried, Retry-After honoured), unless Zoom asks us to wait longer
   * than we ever wait between attempts: then retrying early would only be refused again, so the
   * call fails now and the caller falls back. Anything else is Zoom's final word.
   */
  private failure(what: string, response: Response, detail: { code?: string | number; message: string }): Error {
    const { status } = response;
    const message = `${what}: ${status} ${detail.message}`.trim();
    if (status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      if (retryAfterMs !== undefined && retryAfterMs > this.settings.maxDelayMs) {
        return new ProviderRejectedError(`${message} (asked to wait ${Math.round(retryAfterMs / 1000)} s)`, status, detail.code);
      }
      return new TransientProviderError(message, status, retryAfterMs);
    }
    return new ProviderRejectedError(message, status, detail.code);
  }
}

/** Zoom's error bodies: `{code, message}` from the API, `{reason, error}` from OAuth. */
function errorDetail(text: string): { code?: string | number; message: string } {
  try {
    const json = JSON.parse(text) as { code?: number; message?: string; reason?: string; error?: string };
    return { code: json.code ?? json.error, message: String(json.message ?? json.reason ?? json.error ?? '').slice(0, 200) };
  } catch {
    return { message: '' };
  }
}
