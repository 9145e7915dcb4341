import type { ProviderName } from '../domain/meeting';

export interface MeetingRequest {
  /** Shown by the provider: never names or health data (see MEETING_TOPIC). */
  topic: string;
  startAt: Date;
  durationMinutes: number;
  /** IANA zone the provider displays the time in. */
  timeZone: string;
  /** The Zoom user who hosts it (a user id or email); the account's own user (`me`) when absent. */
  hostUserId?: string;
}

export interface ProviderMeeting {
  providerMeetingId: string;
  joinUrl: string;
  /** The host's link (Zoom start_url); equal to joinUrl where the provider has no such thing. */
  hostUrl: string;
  /** Empty when the provider has none. */
  password: string;
}

/** An outside video provider (src/providers/): Zoom, or Jitsi as the fallback. */
export interface MeetingProvider {
  readonly name: ProviderName;
  createMeeting(request: MeetingRequest): Promise<ProviderMeeting>;
  /** Resolves when the meeting is gone, including when the provider no longer knows it. */
  deleteMeeting(providerMeetingId: string): Promise<void>;
}

/**
 * The host has used its meeting creations for the day (Zoom: 100 creations or updates per user and
 * UTC day; 429 with X-RateLimit-Type Daily-limit, Retry-After sometimes missing). Another host may
 * still take the meeting; retrying this one before midnight UTC is pointless, and it says nothing
 * about Zoom's health (the breaker does not count it).
 */
export class HostQuotaExhaustedError extends Error {
  override name = 'HostQuotaExhaustedError';
  constructor(
    message: string,
    readonly hostUserId: string,
  ) {
    super(message);
  }
}

/** A provider's answer that no retry will change (bad credentials, validation, long rate limit). */
export class ProviderRejectedError extends Error {
  override name = 'ProviderRejectedError';
  constructor(
    message: string,
    readonly status?: number,
    /** The provider's own error code, e.g. Zoom's 124 or 3001. */
    readonly providerCode?: string | number,
  ) {
    super(message);
  }
}
