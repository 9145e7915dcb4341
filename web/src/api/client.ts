// The typed API client of the web app: openapi-fetch over the types generated from the gateway's
// OpenAPI document (schema.d.ts, `npm run gen:api`). Every path, parameter, body and success
// response is checked by the compiler against what the gateway declares.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, operations, paths } from './schema';

/** The shared shapes of the API (Professional, Appointment, Invoice, Money, User, Schedule, Error). */
export type Schemas = components['schemas'];
export type ApiPaths = paths;
/** The JSON body of an operation's first success response, by operationId (e.g. `Success<'searchProfessionals'>`). */
export type Success<Op extends keyof operations> = operations[Op]['responses'] extends infer R
  ? R extends Record<200, { content: { 'application/json': infer B } }>
    ? B
    : R extends Record<201, { content: { 'application/json': infer B } }>
      ? B
      : R extends Record<202, { content: { 'application/json': infer B } }>
        ? B
        : never
  : never;

export interface ApiClientOptions {
  /** Where the gateway is; the same origin by default. */
  baseUrl?: string;
  /** The current access token, if signed in (sent as `Authorization: Bearer`). */
  accessToken?: () => string | undefined;
  /** The language the user chose (sent as `Accept-Language`; the browser's otherwise). */
  language?: () => string | undefined;
  fetch?: typeof globalThis.fetch;
}

export function createApiClient(options: ApiClientOptions = {}) {
  const client = createClient<paths>({ baseUrl: options.baseUrl ?? '', credentials: 'same-origin', ...(options.fetch ? { fetch: options.fetch } : {}) });
  const headers: Middleware = {
    onRequest({ request }) {
      const token = options.accessToken?.();
      if (token) request.headers.set('authorization', `Bearer ${token}`);
      const language = options.language?.();
      if (language) request.headers.set('accept-language', language);
      return request;
    },
  };
  client.use(headers);
  return client;
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** An example of the typing at work (and a compile-time check of it): a search, typed end to end. */
export async function searchProfessionals(api: ApiClient, query: NonNullable<operations['searchProfessionals']['parameters']['query']>): Promise<Success<'searchProfessionals'>> {
  const { data, error } = await api.GET('/v1/professionals', { params: { query } });
  if (error) throw new Error(`${error.error.code}: ${error.error.message}`);
  return data;
}

// Compile-time checks that the generated types carry the success bodies (`tsc -p web` fails if an
// operation's success response were missing or untyped).
type Assert<T extends true> = T;
type Has<T, Shape> = [T] extends [never] ? false : T extends Shape ? true : false;
export type TypeChecks = [
  Assert<Has<Success<'getProfessional'>, { id: string; specialtyNames: string[]; price: Schemas['Money'] | null }>>,
  Assert<Has<Success<'bookAppointment'>, { appointment: Schemas['Appointment']; invoice: Schemas['Invoice'] | null; invoicePending: boolean }>>,
  Assert<Has<Success<'listProfessionalsForReview'>, { items: Array<{ profile: Schemas['Professional']; submittedAt: string }>; nextCursor: string | null }>>,
  Assert<Has<Success<'getMySchedule'>, Schemas['Schedule']>>,
];
