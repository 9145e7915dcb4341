import { video } from '@cryptocare/contracts';
import { alreadyExists, defineService, failedPrecondition, invalidArgument, isUuid, notFound, unauthenticated, unavailable, type Logger } from '@cryptocare/platform';
import { MAX_ZOOM_WEBHOOK_BYTES, ZoomWebhookRejected } from '../domain/zoom-webhook';
import type { ZoomWebhooks } from '../events/zoom-webhooks';
import type { HostStore } from '../store/host-store';
import { meetingView, type Meeting } from '../domain/meeting';
import type { JitsiTokens } from '../providers/jitsi-tokens';
import type { MeetingStore } from '../store/meeting-store';

/** What gives the host a working link now: Zoom's GET /v2/meetings/{id} (absent when Zoom is not configured). */
export interface HostLinks {
  freshHostUrl(providerMeetingId: string): Promise<string>;
  findUser(idOrEmail: string): Promise<string | undefined>;
}

export function videoService(deps: { store: MeetingStore; logger: Logger; hostLinks?: HostLinks; hostStore?: HostStore; jitsiTokens?: JitsiTokens; zoomWebhooks?: ZoomWebhooks }) {
  const { store, logger, hostLinks, hostStore, jitsiTokens, zoomWebhooks } = deps;

  /**
   * A Jitsi room's link for one party, with a token minted now (moderator for the professional,
   * guest for the patient; valid from start − 10 min to end + 30 min). The user fields name a role,
   * not a person: Jitsi shows and reports them.
   */
  async function jitsiLink(meeting: Meeting, asHost: boolean): Promise<string> {
    if (!jitsiTokens) return asHost ? meeting.hostUrl : meeting.joinUrl; // no token auth configured: the bare room
    const startAt = meeting.startAt;
    const endAt = new Date(startAt.getTime() + meeting.durationMinutes * 60_000);
    const user = asHost ? { id: `${meeting.id}/professional`, name: 'Professional' } : { id: `${meeting.id}/patient`, name: 'Patient' };
    return jitsiTokens.link(meeting.joinUrl, { room: meeting.providerMeetingId, moderator: asHost, user, startAt, endAt });
  }

  async function activeMeeting(appointmentId: string) {
    if (!isUuid(appointmentId)) throw invalidArgument('INVALID_APPOINTMENT_ID', 'appointment_id must be a UUID');
    const meeting = await store.findByAppointment(appointmentId);
    if (!meeting || meeting.status !== 'active') throw notFound('MEETING_NOT_FOUND', 'this booking has no meeting');
    return meeting;
  }

  return defineService(
    video,
    'VideoService',
    {
      /**
       * The booking's meeting. The host link only when `as_host`: the gateway, which knows who
       * is calling, asks for it for the booking's professional only.
       */
      async getMeeting(req) {
        return { meeting: meetingView(await activeMeeting(req.appointmentId), req.asHost) };
      },

      /**
       * The link to enter the consultation. For the host of a Zoom meeting, a start_url Zoom issues
       * now (the stored one is dead 2 hours after it was made); for a Jitsi room, the room's URL with
       * a token minted now for that party. Never stored, never cached.
       */
      async getJoinLink(req) {
        const meeting = await activeMeeting(req.appointmentId);
        if (meeting.provider === 'jitsi') return { provider: 'jitsi', url: await jitsiLink(meeting, req.asHost), password: '', role: req.asHost ? 'host' : 'participant' };
        if (!req.asHost) return { provider: meeting.provider, url: meeting.joinUrl, password: meeting.password, role: 'participant' };
        if (!hostLinks) throw unavailable('HOST_LINK_UNAVAILABLE', 'Zoom is not configured: no host link can be issued');
        try {
          return { provider: 'zoom', url: await hostLinks.freshHostUrl(meeting.providerMeetingId), password: meeting.password, role: 'host' };
        } catch (err) {
          logger.warn({ err: err instanceof Error ? err.message : String(err), meetingId: meeting.id }, 'Zoom gave no fresh host link');
          throw unavailable('HOST_LINK_UNAVAILABLE', 'Zoom did not issue a host link; try again shortly');
        }
      },

      /** An admin links an existing Zoom user as the professional's host (the gateway checks the role). */
      async linkHost(req) {
        if (!isUuid(req.professionalId)) throw invalidArgument('INVALID_PROFESSIONAL_ID', 'professional_id must be a UUID');
        const wanted = req.zoomUser.trim();
        if (!wanted || wanted.length > 128 || /[\s\u0000-\u001f\u007f/?#]/.test(wanted)) throw invalidArgument('INVALID_ZOOM_USER', 'zoom_user is a Zoom user id or email');
        if (!hostLinks || !hostStore) throw failedPrecondition('ZOOM_NOT_CONFIGURED', 'Zoom is not configured: meetings are on Jitsi');
        let zoomUserId: string | undefined;
        try {
          zoomUserId = await hostLinks.findUser(wanted);
        } catch (err) {
          logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'Zoom did not answer a user lookup');
          throw unavailable('ZOOM_UNAVAILABLE', 'Zoom did not answer; try again shortly');
        }
        if (!zoomUserId) throw notFound('ZOOM_USER_NOT_FOUND', 'the Zoom account has no such user');
        if (!(await hostStore.relinkProfessional(req.professionalId, zoomUserId))) throw alreadyExists('ZOOM_USER_TAKEN', 'this Zoom user already hosts for another professional or the pool');
        return { professionalId: req.professionalId, zoomUserId };
      },

      /** A Zoom webhook's raw bytes and headers, from the gateway's POST /webhooks/zoom. */
      async ingestZoomWebhook(req) {
        if (!zoomWebhooks?.configured) throw notFound('ZOOM_WEBHOOKS_NOT_CONFIGURED', 'ZOOM_WEBHOOK_SECRET_TOKEN is not set: Zoom webhooks are not taken');
        if (req.rawBody.length === 0) throw invalidArgument('EMPTY_WEBHOOK', 'raw_body is empty');
        if (req.rawBody.length > MAX_ZOOM_WEBHOOK_BYTES) throw invalidArgument('WEBHOOK_TOO_LARGE', `raw_body exceeds ${MAX_ZOOM_WEBHOOK_BYTES} bytes`);
        try {
          const result = await zoomWebhooks.ingest(Buffer.from(req.rawBody), req.headers);
          return { accepted: result.accepted, plainToken: result.challenge?.plainToken ?? '', encryptedToken: result.challenge?.encryptedToken ?? '' };
        } catch (err) {
          if (err instanceof ZoomWebhookRejected) {
            if (err.reason === 'bad_body') throw invalidArgument('INVALID_WEBHOOK_BODY', err.message);
            throw unauthenticated('ZOOM_SIGNATURE_INVALID', err.message);
          }
          throw err;
        }
      },
    },
    logger,
  );
}
