// Failures that say "the database (or the way to it) is not there right now", not "this event
// cannot be handled": PostgreSQL restarting or refusing connections, a connection cut, a pool
// that cannot connect. Retrying such an event a few times and then dead-lettering it would park a
// good event because of an outage; the consumer waits for the database instead (consumer.ts), and
// an RPC that meets one answers UNAVAILABLE (errors.ts: the gateway's 503 + Retry-After), not an
// internal error. A pool so busy that a transaction cannot start in time counts as one too.

/** SQLSTATE classes and codes of an unavailable server: 08 connection exception, 57P01-57P03 shutdown/restart, 53300 too many connections. */
const OUTAGE_SQLSTATES = /^(08...|57P0[1-3]|53300)$/;
/** Prisma's codes for an unreachable server, a closed connection, a timed-out connection or pool. */
const PRISMA_OUTAGE_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1011', 'P1017', 'P2024']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTCONN']);
/** Messages of pg and of Prisma's driver adapter when the server went away (they carry no code). */
const OUTAGE_MESSAGES = /connection terminated|server has closed the connection|can't reach database server|terminating connection due to administrator command|the database system is (starting up|shutting down|in recovery mode)|timeout exceeded when trying to connect|connection refused|unable to start a transaction in the given time/i;

export function isInfrastructureOutage(err: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const { code, message, originalCode } = e as { code?: unknown; message?: unknown; originalCode?: unknown };
    for (const c of [code, originalCode]) {
      if (typeof c !== 'string') continue;
      if (OUTAGE_SQLSTATES.test(c) || PRISMA_OUTAGE_CODES.has(c) || NETWORK_CODES.has(c)) return true;
    }
    if (typeof message === 'string' && OUTAGE_MESSAGES.test(message)) return true;
  }
  return false;
}
