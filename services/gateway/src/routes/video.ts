import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { appointment as contracts } from '@cryptocare/contracts';
import { AppError, GrpcStatus } from '@cryptocare/platform';
import type { Backends } from '../clients';
import { principalOf, type Authenticator } from '../auth';
import { HttpError } from '../http-errors';
import { bearer, errorResponses, IdParams } from './schemas';

/** The link opens this long before the consultation starts (a moment to test camera and sound). */
export const JOIN_OPENS_BEFORE_MS = 10 * 60_000;

const JoinLink = Type.Object(
  {
    appointmentId: Type.String({ format: 'uuid' }),
    provider: Type.String(),
    /** host: the booking's professional (Zoom's start link, issued at this request); participant: the patient. */
    role: Type.Union([Type.Literal('host'), Type.Literal('participant')]),
    url: Type.String(),
    password: Type.String(),
    startAt: Type.String({ format: 'date-time' }),
    endAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);

const LinkHostBody = Type.Object(
  { zoomUser: Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\s/?#]+$', description: 'a Zoom user id or email in the practice’s Zoom account' }) },
  { additionalProperties: false },
);
const LinkedHost = Type.Object({ professionalId: Type.String({ format: 'uuid' }), zoomUserId: Type.String() }, { additionalProperties: false });

const { AppointmentStatus } = contracts;

/**
 * GET /v1/appointments/{id}/join: the way into a booking's consultation. The patient gets the
 * participants' link; the booking's professional the host's, fetched from Zoom at this request and
 * never cached (`Cache-Control: no-store`). From 10 minutes before the start to the end of a
 * confirmed booking; 409 with a code otherwise; 404 for anyone but the booking's two parties.
 */
export function videoRoutes(app: FastifyInstance, backends: Backends, auth: Authenticator) {
  app.put<{ Params: IdParams; Body: Static<typeof LinkHostBody> }>(
    '/v1/admin/professionals/:id/zoom-host',
    {
      schema: {
        tags: ['admin'],
        operationId: 'linkZoomHost',
        summary: 'Link an existing Zoom user as the host of a professional’s meetings (replaces the one video made)',
        security: bearer,
        params: IdParams,
        body: LinkHostBody,
        response: { 200: LinkedHost, ...errorResponses },
      },
      preHandler: auth.requireRole('admin'),
    },
    async (request) => {
      const linked = await backends.video.linkHost({ professionalId: request.params.id, zoomUser: request.body.zoomUser }, { deadlineMs: 5_000 });
      return { professionalId: linked.professionalId, zoomUserId: linked.zoomUserId };
    },
  );

  app.get<{ Params: IdParams }>(
    '/v1/appointments/:id/join',
    {
      schema: {
        tags: ['appointments'],
        operationId: 'getJoinLink',
        summary: 'The link into the consultation: the host link for its professional, the join link for its patient',
        security: bearer,
        params: IdParams,
        response: { 200: JoinLink, ...errorResponses },
      },
      preHandler: auth.requireRole('patient', 'professional', 'admin'),
    },
    async (request, reply) => {
      const me = principalOf(request);
      const appointmentId = request.params.id;
      const { appointment: a } = await backends.appointment.getAppointment({ appointmentId, caller: { userId: me.userId, role: me.role } });
      if (!a) throw new HttpError(404, 'APPOINTMENT_NOT_FOUND', 'no such appointment');
      const asHost = me.role === 'professional' && a.professionalId === me.userId;
      const asPatient = me.role === 'patient' && a.patientId === me.userId;
      // An admin may read the booking, but a consultation's link is for its two parties only.
      if (!asHost && !asPatient) throw new HttpError(404, 'APPOINTMENT_NOT_FOUND', 'no such appointment');

      if (a.status === AppointmentStatus.APPOINTMENT_STATUS_CANCELLED) throw new HttpError(409, 'BOOKING_CANCELLED', 'this booking was cancelled: it has no consultation');
      if (a.status === AppointmentStatus.APPOINTMENT_STATUS_COMPLETED || a.status === AppointmentStatus.APPOINTMENT_STATUS_NO_SHOW) throw new HttpError(409, 'CONSULTATION_OVER', 'this consultation is over');
      if (a.status !== AppointmentStatus.APPOINTMENT_STATUS_CONFIRMED) throw new HttpError(409, 'BOOKING_NOT_CONFIRMED', 'this booking is not paid and confirmed');
      const start = Date.parse(a.startAt);
      const end = Date.parse(a.endAt);
      const now = Date.now();
      const opensAt = new Date(start - JOIN_OPENS_BEFORE_MS).toISOString();
      if (now < start - JOIN_OPENS_BEFORE_MS) throw new HttpError(409, 'JOIN_NOT_OPEN_YET', `the consultation can be joined from ${opensAt}`, { opensAt });
      if (now >= end) throw new HttpError(409, 'CONSULTATION_OVER', 'this consultation is over');

      let link;
      try {
        link = await backends.video.getJoinLink({ appointmentId, asHost }, { deadlineMs: 5_000 });
      } catch (err) {
        // Confirmed, but video has not recorded its meeting yet (it follows the confirmation by seconds).
        if (err instanceof AppError && err.status === GrpcStatus.NOT_FOUND) throw new HttpError(409, 'MEETING_NOT_READY', 'the meeting is being prepared; try again in a few seconds');
        throw err;
      }
      reply.header('cache-control', 'no-store, private');
      return {
        appointmentId,
        provider: link.provider,
        role: asHost ? 'host' : 'participant',
        url: link.url,
        password: link.password,
        startAt: new Date(start).toISOString(),
        endAt: new Date(end).toISOString(),
      };
    },
  );
}
