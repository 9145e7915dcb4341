import Ajv, { type Options as AjvOptions } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyRequest, FastifySchema, FastifySchemaCompiler } from 'fastify';
import { HttpError } from './http-errors';

/**
 * What the public API accepts, beyond each route's schema: one rule per concern, applied to every
 * route, so no backend ever sees a value it cannot store.
 */

/**
 * The instants the API accepts (`format: date-time` in every schema): RFC 3339 with an explicit
 * offset, a real calendar date, no leap second (JavaScript dates cannot hold one) and between
 * 2000 and 2100 — nothing a booking, a schedule or a search could mean lies outside.
 */
export const INSTANT_RANGE = { from: Date.UTC(2000, 0, 1), to: Date.UTC(2100, 0, 1) } as const;

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

export function isInstant(value: string): boolean {
  const m = RFC3339.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  // The day must exist in that month (Date.UTC would roll 31 February over into March).
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return false;
  if (m[9] && (Number(m[10]) > 23 || Number(m[11]) > 59)) return false;
  const at = Date.parse(value);
  return Number.isFinite(at) && at >= INSTANT_RANGE.from && at < INSTANT_RANGE.to;
}

/**
 * Validators for the routes' schemas. Query strings, path parameters and headers are text, so
 * their values are coerced to the schema's types (`?limit=5`); a JSON body is never coerced
 * (`{"refreshToken": false}` is a boolean, not the string "false").
 */
export function schemaValidators(): FastifySchemaCompiler<FastifySchema> {
  const make = (coerceTypes: AjvOptions['coerceTypes']) => {
    const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
    addFormats(ajv);
    ajv.addFormat('date-time', { type: 'string', validate: isInstant });
    return ajv;
  };
  const body = make(false);
  const text = make('array');
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : text).compile(schema as object);
}

/** True when a string anywhere in the value holds a NUL (PostgreSQL text cannot store one). */
function holdsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 32 || value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return false;
  for (const [key, item] of Object.entries(value)) if (key.includes('\u0000') || holdsNul(item, depth + 1)) return true;
  return false;
}

/** A preValidation hook: a NUL byte anywhere in the query, the path or a JSON body is refused. */
export async function refuseNulBytes(request: FastifyRequest): Promise<void> {
  if (holdsNul(request.query) || holdsNul(request.params) || holdsNul(request.body)) {
    throw new HttpError(400, 'INVALID_CHARACTERS', 'text may not contain NUL characters');
  }
}
