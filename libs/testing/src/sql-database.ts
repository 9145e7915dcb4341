/**
 * The Prisma-shaped SQL interface of @cryptocare/events over a plain pg pool, for tests that
 * exercise the event library without a service's generated Prisma client (the services' outbox
 * relays run on the same, poolDatabase).
 */
export { poolDatabase as pgSqlDatabase } from '@cryptocare/events';
