import { ApiError, call } from './api';

/** The events of GET /v1/appointments/{id}/events, in saga order. */
export const LIVE_EVENTS = ['invoice_ready', 'payment_seen', 'confirmed', 'meeting_ready', 'expired', 'cancelled'] as const;
export type LiveEventName = (typeof LIVE_EVENTS)[number];

export interface LiveHandlers {
  onEvent(name: LiveEventName, data: Record<string, any>): void;
  /** A line for the user about the live connection; null when it is fine. */
  onStatus(message: string | null): void;
}

/** The lines shown about the live connection, in the page's language. */
export interface LiveMessages {
  interrupted: string;
  stillTrying: string;
  signInAgain: string;
  unavailable(reason: string): string;
  stopped(reason: string): string;
}
export const ENGLISH_LIVE_MESSAGES: LiveMessages = {
  interrupted: 'Live updates interrupted, reconnecting…',
  stillTrying: 'Live updates are unavailable right now; still trying (or reload the page).',
  signInAgain: 'Sign in again to see live updates.',
  unavailable: (reason) => `Live updates are unavailable: ${reason}`,
  stopped: (reason) => `Live updates stopped: ${reason}`,
};

/** What the server says in an `error` event before it ends a stream. */
interface StreamFailure {
  code: string;
  message: string;
  retryable: boolean;
}

/**
 * Follows one booking's event stream. EventSource cannot send an Authorization header, so each
 * connection opens with a short-lived stream ticket (POST /v1/appointments/{id}/stream-ticket).
 * The browser reconnects by itself while the ticket is valid (sending Last-Event-ID); when it
 * gives up (an HTTP error, such as an expired ticket or a busy service) or the server ends the
 * stream with an `error` event, we reconnect with a new ticket and `?lastEventId=` after a growing
 * pause, so no event is missed and none is seen twice. Returns the function that stops it.
 */
export function followBooking(appointmentId: string, accessToken: () => string | null, handlers: LiveHandlers, messages: LiveMessages = ENGLISH_LIVE_MESSAGES): () => void {
  let source: EventSource | null = null;
  let lastEventId = '';
  let failures = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const closeSource = () => {
    source?.close();
    source = null;
  };
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    closeSource();
  };
  const giveUp = (message: string) => {
    handlers.onStatus(message);
    stop();
  };
  const retryLater = () => {
    if (stopped) return;
    failures++;
    handlers.onStatus(failures >= 4 ? messages.stillTrying : messages.interrupted);
    const delay = Math.min(30_000, 1_000 * 2 ** (failures - 1)) * (0.75 + Math.random() / 2);
    timer = setTimeout(() => void connect(), delay);
  };

  async function connect() {
    if (stopped) return;
    const token = accessToken();
    if (!token) return giveUp(messages.signInAgain);
    let ticket: string;
    try {
      ({ ticket } = await call<{ ticket: string; expiresAt: string }>('POST', `/v1/appointments/${encodeURIComponent(appointmentId)}/stream-ticket`, { token }));
    } catch (err) {
      if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429) return giveUp(messages.unavailable(err.message));
      return retryLater();
    }
    if (stopped) return;
    const params = new URLSearchParams({ ticket });
    if (lastEventId) params.set('lastEventId', lastEventId);
    const es = new EventSource(`/v1/appointments/${encodeURIComponent(appointmentId)}/events?${params}`);
    source = es;
    es.onopen = () => {
      failures = 0;
      handlers.onStatus(null);
    };
    for (const name of LIVE_EVENTS) {
      es.addEventListener(name, (e) => {
        const message = e as MessageEvent<string>;
        if (message.lastEventId) lastEventId = message.lastEventId;
        let data: Record<string, any> = {};
        try {
          data = JSON.parse(message.data);
        } catch {
          /* an event without a body still counts */
        }
        handlers.onEvent(name, data);
      });
    }
    es.addEventListener('error', (e) => {
      if (source !== es) return;
      if (e instanceof MessageEvent) {
        // The server's `event: error`: it ends the stream and says whether to come back.
        let failure: StreamFailure = { code: 'STREAM_FAILED', message: 'live updates failed', retryable: true };
        try {
          failure = { ...failure, ...JSON.parse(e.data) };
        } catch {
          /* keep the default */
        }
        closeSource();
        if (failure.retryable) retryLater();
        else giveUp(messages.stopped(failure.message));
        return;
      }
      if (es.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. 401 on an expired ticket, 503): new ticket, resume from lastEventId.
        closeSource();
        retryLater();
      } else {
        handlers.onStatus(messages.interrupted);
      }
    });
  }

  void connect();
  return stop;
}
