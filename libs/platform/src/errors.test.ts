import { AppError, fromServiceError, GrpcStatus, httpStatusOf, toServiceError } from './errors';

describe('error mapping', () => {
  it('maps gRPC statuses to HTTP as ARCHITECTURE section 6 says', () => {
    expect(httpStatusOf(GrpcStatus.INVALID_ARGUMENT)).toBe(400);
    expect(httpStatusOf(GrpcStatus.UNAUTHENTICATED)).toBe(401);
    expect(httpStatusOf(GrpcStatus.PERMISSION_DENIED)).toBe(403);
    expect(httpStatusOf(GrpcStatus.NOT_FOUND)).toBe(404);
    expect(httpStatusOf(GrpcStatus.ALREADY_EXISTS)).toBe(409);
    expect(httpStatusOf(GrpcStatus.ABORTED)).toBe(409);
    expect(httpStatusOf(GrpcStatus.FAILED_PRECONDITION)).toBe(409);
    expect(httpStatusOf(GrpcStatus.RESOURCE_EXHAUSTED)).toBe(429);
    expect(httpStatusOf(GrpcStatus.UNAVAILABLE)).toBe(503);
    expect(httpStatusOf(GrpcStatus.DEADLINE_EXCEEDED)).toBe(504);
    expect(httpStatusOf(GrpcStatus.INTERNAL)).toBe(500);
  });

  it('carries the machine code across the wire and hides internal errors', () => {
    const sent = toServiceError(new AppError(GrpcStatus.ALREADY_EXISTS, 'SLOT_TAKEN', 'slot taken', { start: 'x' }));
    const received = fromServiceError(sent);
    expect(received).toMatchObject({ status: GrpcStatus.ALREADY_EXISTS, code: 'SLOT_TAKEN', message: 'slot taken', details: { start: 'x' } });
    const internal = fromServiceError(toServiceError(new Error('password=hunter2 in SQL')));
    expect(internal).toMatchObject({ status: GrpcStatus.INTERNAL, code: 'INTERNAL', message: 'internal error' });
  });

  it('answers UNAVAILABLE (503, retryable) when the database or its pool is not there, never INTERNAL', () => {
    // What Prisma throws when every pooled connection stays busy past maxWait, and when the pool cannot connect.
    const busy = Object.assign(new Error('Transaction API error: Unable to start a transaction in the given time.'), { code: 'P2028' });
    const unreachable = Object.assign(new Error('Timed out fetching a new connection from the connection pool.'), { code: 'P2024' });
    for (const err of [busy, unreachable]) {
      expect(fromServiceError(toServiceError(err))).toMatchObject({ status: GrpcStatus.UNAVAILABLE, code: 'STORAGE_UNAVAILABLE' });
    }
    // Another transaction error stays internal (a transaction that ran past its timeout is a defect to look at).
    const closed = Object.assign(new Error('Transaction API error: Transaction already closed.'), { code: 'P2028' });
    expect(fromServiceError(toServiceError(closed))).toMatchObject({ status: GrpcStatus.INTERNAL });
  });
});
