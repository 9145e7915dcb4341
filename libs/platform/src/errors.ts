import { status as GrpcStatus, Metadata, type ServiceError } from '@grpc/grpc-js';
import { isInfrastructureOutage } from './outage';

export { GrpcStatus };

/**
 * An expected failure with a stable machine code (e.g. SLOT_TAKEN) and the gRPC status that
 * carries it. Anything else thrown by a handler is an internal error.
 */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly status: GrpcStatus,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const invalidArgument = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(GrpcStatus.INVALID_ARGUMENT, code, message, details);
export const notFound = (code: string, message: string) => new AppError(GrpcStatus.NOT_FOUND, code, message);
export const permissionDenied = (code: string, message: string) => new AppError(GrpcStatus.PERMISSION_DENIED, code, message);
export const unauthenticated = (code: string, message: string) => new AppError(GrpcStatus.UNAUTHENTICATED, code, message);
export const alreadyExists = (code: string, message: string) => new AppError(GrpcStatus.ALREADY_EXISTS, code, message);
export const failedPrecondition = (code: string, message: string) => new AppError(GrpcStatus.FAILED_PRECONDITION, code, message);
export const unavailable = (code: string, message: string) => new AppError(GrpcStatus.UNAVAILABLE, code, message);

/** Metadata keys carrying the machine code across gRPC. */
export const ERROR_CODE_KEY = 'x-error-code';
const ERROR_DETAILS_KEY = 'x-error-details';

export function toServiceError(error: unknown): Partial<ServiceError> {
  const metadata = new Metadata();
  if (error instanceof AppError) {
    metadata.set(ERROR_CODE_KEY, error.code);
    if (error.details) metadata.set(ERROR_DETAILS_KEY, JSON.stringify(error.details));
    return { code: error.status, details: error.message, message: error.message, metadata };
  }
  if (isInfrastructureOutage(error)) {
    // The database (or its pool) is not there right now: retryable, unlike a defect.
    metadata.set(ERROR_CODE_KEY, 'STORAGE_UNAVAILABLE');
    return { code: GrpcStatus.UNAVAILABLE, details: 'storage unavailable, retry shortly', message: 'storage unavailable, retry shortly', metadata };
  }
  metadata.set(ERROR_CODE_KEY, 'INTERNAL');
  return { code: GrpcStatus.INTERNAL, details: 'internal error', message: 'internal error', metadata };
}

/** Reads an error received from a gRPC call back into an AppError (for callers and the gateway). */
export function fromServiceError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const e = error as Partial<ServiceError>;
  if (typeof e?.code === 'number') {
    const code = e.metadata?.get(ERROR_CODE_KEY)[0]?.toString() ?? defaultCodes[e.code] ?? 'INTERNAL';
    const raw = e.metadata?.get(ERROR_DETAILS_KEY)[0]?.toString();
    return new AppError(e.code, code, e.details || e.message || 'error', raw ? JSON.parse(raw) : undefined);
  }
  return new AppError(GrpcStatus.INTERNAL, 'INTERNAL', error instanceof Error ? error.message : String(error));
}

const defaultCodes: Partial<Record<number, string>> = {
  [GrpcStatus.UNAVAILABLE]: 'SERVICE_UNAVAILABLE',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'DEADLINE_EXCEEDED',
  [GrpcStatus.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'RATE_LIMITED',
};

/** ARCHITECTURE section 6: gRPC status → HTTP status at the gateway. */
export function httpStatusOf(status: GrpcStatus): number {
  switch (status) {
    case GrpcStatus.OK:
      return 200;
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.OUT_OF_RANGE:
      return 400;
    case GrpcStatus.UNAUTHENTICATED:
      return 401;
    case GrpcStatus.PERMISSION_DENIED:
      return 403;
    case GrpcStatus.NOT_FOUND:
      return 404;
    case GrpcStatus.ALREADY_EXISTS:
    case GrpcStatus.ABORTED:
    case GrpcStatus.FAILED_PRECONDITION:
      return 409;
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return 429;
    case GrpcStatus.UNAVAILABLE:
      return 503;
    case GrpcStatus.DEADLINE_EXCEEDED:
      return 504;
    default:
      return 500;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids are UUIDs; anything else cannot name a row (and must not reach a uuid column). */
export const isUuid = (value: string) => UUID.test(value);
