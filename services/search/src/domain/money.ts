/**
 * Prices are decimal strings ("120.00") end to end: no floating point between the request and the
 * numeric(10,2) column.
 */
const DECIMAL = /^(\d{1,7})(?:\.(\d{1,2}))?$/;

/** A non-negative decimal with at most two decimals, in cents; undefined when malformed. */
export function parseCents(amount: string): number | undefined {
  const match = DECIMAL.exec(amount.trim());
  if (!match) return undefined;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

/** Cents as the canonical two-decimal string. */
export function formatCents(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

export const MAX_PRICE_CENTS = 10_000_00;
