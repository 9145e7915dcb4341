// The rules of a booking's meeting, free of Prisma, Kafka and HTTP.

export type ProviderName = 'zoom' | 'jitsi';
export type MeetingStatus = 'active' | 'deleted';

/**
 * What the provider shows as the meeting's title (in Zoom's UI, invitations and reports). It
 * never carries a name, a specialty or a reason: those are health data.
 */
export const MEETING_TOPIC = 'CryptoCare consultation';

/**
 * Zone the provider displays times in. The confirmation event carries UTC instants only (not the
 * professional's zone), and start times are sent as UTC instants, so this is display only.
 */
export const MEETING_TIME_ZONE = 'UTC';

export interface Meeting {
  id: string;
  appointmentId: string;
  provider: string;
  providerMeetingId: string;
  joinUrl: string;
  /** Zoom start_url: the professional's (host's) link; never sent toward a patient. */
  hostUrl: string;
  password: string;
  startAt: Date;
  durationMinutes: number;
  status: string;
  createdAt: Date;
  /** The Zoom user hosting it; null on Jitsi. */
  hostId: string | null;
}

export class InvalidBookingTimesError extends Error {
  override name = 'InvalidBookingTimesError';
}

/** A booking's start and length in whole minutes (rounded up), from the confirmation's instants. */
export function meetingWindow(startAt: string, endAt: string): { startAt: Date; durationMinutes: number } {
  const start = Date.parse(startAt);
  const end = Date.parse(endAt);
  if (!startAt || Number.isNaN(start)) throw new InvalidBookingTimesError(`booking start ${JSON.stringify(startAt)} is not an instant`);
  if (!endAt || Number.isNaN(end) || end <= start) throw new InvalidBookingTimesError(`booking end ${JSON.stringify(endAt)} is not after its start`);
  return { startAt: new Date(start), durationMinutes: Math.ceil((end - start) / 60_000) };
}

/** What a caller may see of a meeting: the host link only for the host. */
export function meetingView(meeting: Meeting, asHost: boolean) {
  return {
    id: meeting.id,
    appointmentId: meeting.appointmentId,
    provider: meeting.provider,
    joinUrl: meeting.joinUrl,
    password: meeting.password,
    startAt: meeting.startAt.toISOString(),
    durationMinutes: meeting.durationMinutes,
    hostUrl: asHost ? meeting.hostUrl : '',
  };
}

/** Seconds from the booking's confirmation to its meeting (the "meeting link < 2 s" SLI). */
export function linkSeconds(confirmedAt: string, meetingReadyAt: Date): number | undefined {
  const confirmed = Date.parse(confirmedAt);
  return Number.isNaN(confirmed) ? undefined : Math.max(0, (meetingReadyAt.getTime() - confirmed) / 1000);
}
