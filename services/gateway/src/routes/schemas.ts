import { Type, type Static } from 'typebox';

/** Shapes shared by the routes' OpenAPI schemas. */
export const ErrorBody = Type.Object(
  { error: Type.Object({ code: Type.String({ description: 'machine-readable, e.g. VALIDATION_FAILED' }), message: Type.String(), details: Type.Optional(Type.Unknown()) }) },
  { $id: 'Error', description: 'Every error: a machine code and a message for people' },
);

export const Money = Type.Object({ amount: Type.String({ pattern: '^\\d{1,5}(\\.\\d{1,2})?$' }), currency: Type.Union([Type.Literal('CHF'), Type.Literal('EUR')]) });

export const Uuid = Type.String({ format: 'uuid' });
export const IdParams = Type.Object({ id: Uuid });
export type IdParams = Static<typeof IdParams>;

const ErrorRef = Type.Ref('Error');
export const errorResponses = {
  400: ErrorRef,
  401: ErrorRef,
  403: ErrorRef,
  404: ErrorRef,
  409: ErrorRef,
  /** WRONG_REGION: the account lives in another data region's deployment (details.region, details.baseUrl). */
  421: ErrorRef,
  429: ErrorRef,
  503: ErrorRef,
  504: ErrorRef,
};

export const bearer = [{ bearerAuth: [] }];

// Response shapes. fastify serialises answers with these (fast-json-stringify): a property not
// declared here is dropped, and a declared required one that is missing fails the request, so
// each mirrors its presenter (presenters.ts) exactly. They also make the typed client (web/src/api).

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
export const NullableString = Nullable(Type.String());

/** An amount as the services hold it (responses: the currency is whatever the service says). */
export const MoneyView = Type.Object({ amount: Type.String(), currency: Type.String() }, { $id: 'Money' });

export const UserView = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    role: Type.String({ description: 'patient, professional or admin' }),
    displayName: Type.String(),
    region: NullableString,
    createdAt: Type.String(),
    emailVerified: Type.Boolean(),
  },
  { $id: 'User' },
);

export const ProfileView = Type.Object(
  {
    id: Type.String(),
    displayName: Type.String(),
    specialties: Type.Array(Type.String(), { description: 'specialty codes (GET /v1/specialties)' }),
    specialtyNames: Type.Array(Type.String(), { description: 'the specialties\' names in the language asked for (Accept-Language), in the order of their codes' }),
    languages: Type.Array(Type.String()),
    country: Type.String(),
    city: Type.String(),
    latitude: Type.Number(),
    longitude: Type.Number(),
    price: Nullable(Type.Ref('Money')),
    consultationMinutes: Type.Integer(),
    timeZone: Type.String(),
    bio: Type.String(),
    verified: Type.Boolean(),
    nextAvailableAt: NullableString,
    distanceKm: Type.Optional(Type.Number()),
    review: Type.Optional(
      Type.Object(
        {
          state: Type.Union([Type.Literal('pending'), Type.Literal('verified'), Type.Literal('rejected')]),
          reason: Type.Union([Type.String(), Type.Null()], { description: 'rejected: why, in the admin\'s words' }),
          at: Type.Union([Type.String(), Type.Null()], { description: 'rejected: when' }),
        },
        { description: 'the admins\' review: on the professional\'s own profile and the admins\' views only. A rejected profile goes back to pending when it is saved again' },
      ),
    ),
  },
  { $id: 'Professional' },
);

export const AppointmentView = Type.Object(
  {
    id: Type.String(),
    patientId: Type.String(),
    professionalId: Type.String(),
    start: Type.String(),
    end: Type.String(),
    status: Type.String({ description: 'held, confirmed, completed, no_show, cancelled or expired' }),
    holdExpiresAt: NullableString,
    price: Nullable(Type.Ref('Money')),
    meeting: Nullable(Type.Object({ joinUrl: Type.String(), provider: Type.String(), password: NullableString })),
    cancelReason: NullableString,
    noShowBy: Type.Union([Type.String(), Type.Null()], { description: 'no_show only: patient, professional or both (who never joined)' }),
    patientName: Type.Optional(
      Type.Union([Type.String(), Type.Null()], {
        description: "the patient's display name, for their professional and admins only (GET /v1/appointments and /v1/appointments/{id}); null when the patient erased their account",
      }),
    ),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { $id: 'Appointment' },
);

export const InvoiceView = Type.Object(
  {
    id: Type.String(),
    status: Type.String({ description: 'open, paid, expired or refund_due' }),
    amount: Nullable(Type.Ref('Money')),
    sats: Type.Integer(),
    lightningInvoice: Type.String(),
    onchainAddress: NullableString,
    paymentUri: Type.String(),
    qrSvg: NullableString,
    checkoutUrl: Type.String(),
    expiresAt: Type.String(),
    provider: Type.String(),
  },
  { $id: 'Invoice' },
);

export const ScheduleView = Type.Object(
  {
    professionalId: Type.String(),
    timeZone: Type.String(),
    rules: Type.Array(Type.Object({ weekday: Type.Integer({ description: 'ISO weekday, 1 = Monday' }), start: Type.String(), end: Type.String() })),
    slotMinutes: Type.Integer(),
    bufferMinutes: Type.Integer(),
    minimumNoticeMinutes: Type.Integer(),
    horizonDays: Type.Integer(),
    timeOff: Type.Array(Type.Object({ id: Type.String(), startAt: Type.String(), endAt: Type.String(), reason: Type.String() })),
  },
  { $id: 'Schedule' },
);

/** Shared shapes registered once (app.addSchema) and referenced by $ref in the document. */
export const sharedSchemas = [MoneyView, UserView, ProfileView, AppointmentView, InvoiceView, ScheduleView];

/** A page of a list: its items and the cursor of the next page (null on the last). */
export const Page = <T extends Parameters<typeof Type.Array>[0]>(item: T) => Type.Object({ items: Type.Array(item), nextCursor: NullableString });

/** A response with no body (204, 304). */
export const NoContent = Type.Null({ description: 'no content' });

/** References to the shared shapes (components.schemas in the document). */
export const Refs = {
  User: Type.Ref('User'),
  Professional: Type.Ref('Professional'),
  Appointment: Type.Ref('Appointment'),
  Invoice: Type.Ref('Invoice'),
  Money: Type.Ref('Money'),
  Schedule: Type.Ref('Schedule'),
};
export const NullableRef = (ref: ReturnType<typeof Type.Ref>) => Type.Union([ref, Type.Null()]);
