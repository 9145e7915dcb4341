import type { ServerResponse } from 'node:http';
import { AppError, fromServiceError, GrpcStatus, httpStatusOf } from '@cryptocare/platform';
import { HttpError } from '../http-errors';

/** What a stream says before it ends on a failure: `event: error` with this body. */
export interface StreamFailure {
  code: string;
  message: string;
  /** true: reconnect (with Last-Event-ID) after a pause; false: reconnecting will not help. */
  retryable: boolean;
}

export function streamFailureOf(err: unknown): StreamFailure {
  if (err instanceof HttpError) return { code: err.code, message: err.message, retryable: err.statusCode >= 500 || err.statusCode === 429 };
  const appError = err instanceof AppError ? err : fromServiceError(err);
  const status = httpStatusOf(appError.status);
  if (status === 500) return { code: 'INTERNAL', message: 'internal error', retryable: true };
  return { code: appError.code, message: appError.message, retryable: status >= 500 || status === 429 || appError.status === GrpcStatus.RESOURCE_EXHAUSTED };
}

/**
 * One open `text/event-stream` answer: frames, a keep-alive comment, and an end that is never
 * silent (a failure is told to the client as an `error` event before the stream ends).
 */
export class SseResponse {
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly onClose: Array<() => void> = [];

  constructor(
    private readonly res: ServerResponse,
    /** Headers the reply already carries (request id, security headers). */
    headers: Record<string, unknown> = {},
    heartbeatMs = 15_000,
  ) {
    res.writeHead(200, {
      ...(headers as Record<string, string | number | string[]>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // An EventSource reconnects after this many ms when the stream ends.
    res.write('retry: 2000\n\n');
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), heartbeatMs);
    this.heartbeat.unref();
    res.on('close', () => this.finish());
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Runs once when the stream ends, whoever ends it. */
  whenClosed(fn: () => void): void {
    if (this.closed) fn();
    else this.onClose.push(fn);
  }

  send(id: number, event: string, data: unknown): void {
    this.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Tells the client why, then ends the stream. */
  fail(failure: StreamFailure): void {
    if (this.closed) return;
    this.write(`event: error\ndata: ${JSON.stringify(failure)}\n\n`);
    this.res.end();
    this.finish();
  }

  private write(frame: string): void {
    if (!this.closed && !this.res.destroyed) this.res.write(frame);
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const fn of this.onClose.splice(0)) fn();
  }
}
