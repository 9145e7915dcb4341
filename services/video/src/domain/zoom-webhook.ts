// Zoom's webhooks (developers.zoom.us/docs/api/webhooks, "Verify webhook events" and "Validate your
// webhook endpoint"): each request carries `x-zm-request-timestamp` (Unix seconds) and
// `x-zm-signature` = "v0=" + hex HMAC-SHA256(secret token, "v0:{timestamp}:{raw body}"). The
// endpoint.url_validation challenge is answered with {plainToken, encryptedToken: hex
// HMAC-SHA256(secret token, plainToken)}. Pure functions: no I/O, the clock is an argument.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** A request older or newer than this (against our clock) is refused: a captured one cannot be replayed later. */
export const ZOOM_WEBHOOK_TOLERANCE_SECONDS = 5 * 60;
/** Zoom's payloads are small; anything bigger is not Zoom. */
export const MAX_ZOOM_WEBHOOK_BYTES = 64 * 1024;

export class ZoomWebhookRejected extends Error {
  constructor(
    readonly reason: 'missing_signature' | 'bad_signature' | 'stale' | 'bad_body',
    message: string,
  ) {
    super(message);
  }
}

const hmacHex = (secret: string, data: string | Buffer) => createHmac('sha256', secret).update(data).digest('hex');

/** The signature Zoom sends for this body at this timestamp. */
export function zoomSignature(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return `v0=${hmacHex(secret, Buffer.concat([Buffer.from(`v0:${timestamp}:`), Buffer.isBuffer(rawBody) ? rawBody : Buffer.from(rawBody)]))}`;
}

/** Throws ZoomWebhookRejected unless the headers sign exactly these bytes, within the tolerance. */
export function verifyZoomSignature(secret: string, headers: Record<string, string>, rawBody: Buffer, nowMs: number): void {
  const timestamp = headers['x-zm-request-timestamp'];
  const signature = headers['x-zm-signature'];
  if (!timestamp || !signature) throw new ZoomWebhookRejected('missing_signature', 'x-zm-signature and x-zm-request-timestamp are required');
  if (!/^\d{1,12}$/.test(timestamp)) throw new ZoomWebhookRejected('bad_signature', 'x-zm-request-timestamp is not a Unix time in seconds');
  const expected = Buffer.from(zoomSignature(secret, timestamp, rawBody));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new ZoomWebhookRejected('bad_signature', 'x-zm-signature does not match');
  // Checked after the signature, so that the timestamp itself is known to be Zoom's.
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > ZOOM_WEBHOOK_TOLERANCE_SECONDS) {
    throw new ZoomWebhookRejected('stale', `x-zm-request-timestamp is more than ${ZOOM_WEBHOOK_TOLERANCE_SECONDS} s from now`);
  }
}

/** The answer to endpoint.url_validation. */
export function urlValidationAnswer(secret: string, plainToken: string): { plainToken: string; encryptedToken: string } {
  return { plainToken, encryptedToken: hmacHex(secret, plainToken) };
}

export interface ZoomParticipant {
  /** The participant's Zoom user id when signed in to Zoom (the host is), else empty. */
  id: string;
  /** Zoom's per-meeting participant id. */
  userId: string;
  /** The participant's UUID across the meeting (newer payloads). */
  participantUuid: string;
  joinTime: string;
}

/** What video uses of a Zoom event. */
export type ZoomEvent =
  | { event: 'endpoint.url_validation'; plainToken: string }
  | {
      event: 'meeting.started' | 'meeting.ended' | 'meeting.participant_joined';
      eventTs: number;
      /** Zoom's numeric meeting id, as text (providerMeetingId). */
      meetingId: string;
      meetingUuid: string;
      hostId: string;
      participant?: ZoomParticipant;
    }
  /** Any other event (subscribed by mistake): stored nowhere, answered 200. */
  | { event: 'other'; name: string };

const record = (value: unknown): Record<string, unknown> => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});
const text = (value: unknown, max = 200): string => {
  const s = typeof value === 'number' && Number.isFinite(value) ? String(value) : typeof value === 'string' ? value : '';
  // eslint-disable-next-line no-control-regex
  return s.length <= max && !/[\u0000-\u001f]/.test(s) ? s : '';
};

/** Reads a verified body; throws ZoomWebhookRejected('bad_body') when it is not a Zoom event video can use. */
export function parseZoomEvent(rawBody: Buffer): ZoomEvent {
  let body: Record<string, unknown>;
  try {
    body = record(JSON.parse(rawBody.toString('utf8')));
  } catch {
    throw new ZoomWebhookRejected('bad_body', 'the body is not JSON');
  }
  const event = text(body.event, 100);
  const payload = record(body.payload);
  if (event === 'endpoint.url_validation') {
    const plainToken = text(payload.plainToken, 200);
    if (!plainToken) throw new ZoomWebhookRejected('bad_body', 'payload.plainToken is required');
    return { event, plainToken };
  }
  if (event !== 'meeting.started' && event !== 'meeting.ended' && event !== 'meeting.participant_joined') return { event: 'other', name: event };
  const object = record(payload.object);
  const meetingId = text(object.id, 20);
  const eventTs = typeof body.event_ts === 'number' && Number.isSafeInteger(body.event_ts) && body.event_ts > 0 ? body.event_ts : NaN;
  if (!/^\d{1,20}$/.test(meetingId) || Number.isNaN(eventTs)) throw new ZoomWebhookRejected('bad_body', 'event_ts and payload.object.id are required');
  const parsed = { event, eventTs, meetingId, meetingUuid: text(object.uuid), hostId: text(object.host_id) } as const;
  if (event !== 'meeting.participant_joined') return parsed;
  const p = record(object.participant);
  const participant: ZoomParticipant = { id: text(p.id), userId: text(p.user_id), participantUuid: text(p.participant_uuid), joinTime: text(p.join_time, 40) };
  if (!participant.id && !participant.userId && !participant.participantUuid) throw new ZoomWebhookRejected('bad_body', 'payload.object.participant is required');
  return { ...parsed, participant };
}

/**
 * Zoom's event identity: Zoom sends no event id, and a retry repeats the same body (same event_ts)
 * under a new timestamp header. The event, the meeting instance, its time and (for a join) the
 * participant and join time name it.
 */
export function zoomEventKey(e: Extract<ZoomEvent, { eventTs: number }>): string {
  const who = e.participant ? `${e.participant.participantUuid || e.participant.userId || e.participant.id}:${e.participant.joinTime}` : '';
  return createHash('sha256').update([e.event, e.meetingId, e.meetingUuid, String(e.eventTs), who].join('\u0000')).digest('hex');
}

/** Whether a participant who joined is the meeting's host: the signed-in Zoom user who hosts it. */
export function isHost(participant: ZoomParticipant, hostIds: Array<string | null | undefined>): boolean {
  return participant.id !== '' && hostIds.some((h) => !!h && h === participant.id);
}
