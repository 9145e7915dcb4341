import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Backends } from '../clients';
import { principalOf, type Authenticator } from '../auth';
import { bearer, errorResponses, NoContent } from './schemas';

// A professional's date overrides: on a date of their own time zone, their own openings instead of
// the weekly schedule's (several ranges), or closed (no range). appointment validates them against
// the schedule (dates from today to the end of the booking horizon, ordered ranges without overlap).

const Clock = Type.String({ pattern: '^\\d{2}:\\d{2}$', description: 'local clock time "HH:MM"; an end of "24:00" means until midnight' });
const ClockRange = Type.Object({ start: Clock, end: Clock }, { additionalProperties: false });
const LocalDate = Type.String({ format: 'date', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'calendar date in the professional\'s time zone' });
const DateParams = Type.Object({ date: LocalDate });
const OverrideBody = Type.Object(
  { ranges: Type.Array(ClockRange, { maxItems: 12, description: 'ordered, not overlapping; empty: closed that day' }) },
  { additionalProperties: false },
);
const Override = Type.Object({ date: LocalDate, closed: Type.Boolean(), ranges: Type.Array(ClockRange) });
const OverrideList = Type.Object({ timeZone: Type.String(), items: Type.Array(Override) });

const present = (o: { date: string; ranges: Array<{ start: string; end: string }> }) => ({ date: o.date, closed: o.ranges.length === 0, ranges: o.ranges });

export function dateOverrideRoutes(app: FastifyInstance, backends: Backends, auth: Authenticator): void {
  const professional = auth.requireRole('professional');

  app.get(
    '/v1/professionals/me/date-overrides',
    {
      schema: { tags: ['professionals'], operationId: 'listMyDateOverrides', summary: 'My date overrides from today on (in my schedule\'s time zone)', security: bearer, response: { 200: OverrideList, ...errorResponses } },
      preHandler: professional,
    },
    async (request) => {
      const { items, timeZone } = await backends.appointment.listDateOverrides({ professionalId: principalOf(request).userId });
      return { timeZone, items: items.map(present) };
    },
  );

  app.put<{ Params: Static<typeof DateParams>; Body: Static<typeof OverrideBody> }>(
    '/v1/professionals/me/date-overrides/:date',
    {
      schema: {
        tags: ['professionals'],
        operationId: 'setDateOverride',
        summary: 'Open my own ranges on a date instead of the weekly schedule, or close it (no range)',
        security: bearer,
        params: DateParams,
        body: OverrideBody,
        response: { 200: Override, ...errorResponses },
      },
      preHandler: professional,
    },
    async (request) => {
      const { override } = await backends.appointment.setDateOverride({
        professionalId: principalOf(request).userId,
        override: { date: request.params.date, ranges: request.body.ranges },
      });
      return present(override!);
    },
  );

  app.delete<{ Params: Static<typeof DateParams> }>(
    '/v1/professionals/me/date-overrides/:date',
    { schema: { tags: ['professionals'], operationId: 'removeDateOverride', summary: 'Back to the weekly schedule on a date', security: bearer, params: DateParams, response: { 204: NoContent, ...errorResponses } }, preHandler: professional },
    async (request, reply) => {
      await backends.appointment.removeDateOverride({ professionalId: principalOf(request).userId, date: request.params.date });
      return reply.status(204).send();
    },
  );
}
