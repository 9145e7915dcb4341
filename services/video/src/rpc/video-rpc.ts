import { video } from '@cryptocare/contracts';
import { defineService, invalidArgument, isUuid, notFound, type Logger } from '@cryptocare/platform';
import { meetingView } from '../domain/meeting';
import type { MeetingStore } from '../store/meeting-store';

export function videoService(deps: { store: MeetingStore; logger: Logger }) {
  const { store } = deps;
  return defineService(
    video,
    'VideoService',
    {
      /**
       * The booking's meeting. The host link only when `as_host`: the gateway, which knows who
       * is calling, asks for it for the booking's professional only.
       */
      async getMeeting(req) {
        if (!isUuid(req.appointmentId)) throw invalidArgument('INVALID_APPOINTMENT_ID', 'appointment_id must be a UUID');
        const meeting = await store.findByAppointment(req.appointmentId);
        if (!meeting || meeting.status !== 'active') throw notFound('MEETING_NOT_FOUND', 'this booking has no meeting');
        return { meeting: meetingView(meeting, req.asHost) };
      },
    },
    deps.logger,
  );
}
