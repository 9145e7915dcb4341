import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, fromServiceError, httpStatusOf, GrpcStatus } from '@cryptocare/platform';

/** An error body of ARCHITECTURE section 13: `{ error: { code, message } }`. */
export const errorBody = (code: string, message: string, details?: unknown) => ({ error: { code, message, ...(details ? { details } : {}) } });

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Whether a write that answered 503/504 may still have taken effect (the client should retry it). */
const retryHint = ' The request may still have taken effect: retry it with the same Idempotency-Key to get its result.';

export function installErrorHandler(
  app: FastifyInstance,
  allowedMethods: (url: string) => string[] = () => [],
  /** Answers a browser's GET of a page the router does not know (the web client's index.html), or not. */
  pageFallback: (request: FastifyRequest, reply: FastifyReply) => FastifyReply | undefined = () => undefined,
): void {
  app.setErrorHandler((error: FastifyError | AppError | HttpError | Error, request, reply) => {
    if (error instanceof HttpError) return reply.status(error.statusCode).send(errorBody(error.code, error.message, error.details));
    const fe = error as FastifyError;
    if (fe.validation) {
      return reply.status(400).send(errorBody('VALIDATION_FAILED', fe.message, fe.validation.map((v) => ({ path: v.instancePath || v.params?.missingProperty, message: v.message }))));
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send(errorBody(fe.code?.replace(/^FST_ERR_/, '') || 'BAD_REQUEST', fe.message));
    }
    const appError = error instanceof AppError ? error : fromServiceError(error);
    const status = httpStatusOf(appError.status);
    if (status >= 500) request.log.error({ err: error, code: appError.code }, 'request failed');
    if (appError.status === GrpcStatus.UNAVAILABLE || appError.status === GrpcStatus.DEADLINE_EXCEEDED) reply.header('retry-after', '2');
    // A service that says how long to wait (a locked account) is believed.
    const retryAfter = appError.details?.retryAfterSeconds;
    if (status === 429 && typeof retryAfter === 'number' && Number.isFinite(retryAfter) && retryAfter > 0) reply.header('retry-after', String(Math.ceil(retryAfter)));
    let message = status === 500 ? 'internal error' : appError.message;
    // A booking whose answer timed out may stand: say how to get it back without a second one.
    if ((status === 503 || status === 504) && request.method === 'POST' && request.headers['idempotency-key']) message += retryHint;
    return reply.status(status).send(errorBody(status === 500 ? 'INTERNAL' : appError.code, message, status === 500 ? undefined : appError.details));
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const allowed = allowedMethods(request.url);
    if (allowed.length > 0) {
      return reply.status(405).header('allow', allowed.join(', ')).send(errorBody('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`));
    }
    const page = pageFallback(request, reply);
    if (page) return page;
    return reply.status(404).send(errorBody('ROUTE_NOT_FOUND', `no route ${request.method} ${path}`));
  });
}
