import { Type, type Static } from 'typebox';

/** Shapes shared by the routes' OpenAPI schemas. */
export const ErrorBody = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) }) },
  { $id: 'Error' },
);

export const Money = Type.Object({ amount: Type.String({ pattern: '^\\d{1,5}(\\.\\d{1,2})?$' }), currency: Type.Union([Type.Literal('CHF'), Type.Literal('EUR')]) });

export const Uuid = Type.String({ format: 'uuid' });
export const IdParams = Type.Object({ id: Uuid });
export type IdParams = Static<typeof IdParams>;

export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  /** WRONG_REGION: the account lives in another data region's deployment (details.region, details.baseUrl). */
  421: ErrorBody,
  429: ErrorBody,
  503: ErrorBody,
  504: ErrorBody,
};

export const bearer = [{ bearerAuth: [] }];
