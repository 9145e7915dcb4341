// Fiat prices and bitcoin amounts, as exact decimal strings and integers (never floating point).

export const CURRENCIES = ['CHF', 'EUR'] as const;
export type Currency = (typeof CURRENCIES)[number];

export interface Price {
  /** Two decimals, e.g. "120.00". */
  amount: string;
  currency: Currency;
}

/** Fits numeric(10,2): up to 8 integer digits and 2 decimals. */
const DECIMAL = /^(\d{1,8})(?:\.(\d{1,2}))?$/;

export type PriceProblem = 'INVALID_PRICE' | 'INVALID_CURRENCY';

/** Validates a price from a request and normalises it to two decimals. */
export function parsePrice(amount: string | undefined, currency: string | undefined): Price | PriceProblem {
  if (!currency || !(CURRENCIES as readonly string[]).includes(currency)) return 'INVALID_CURRENCY';
  const m = DECIMAL.exec((amount ?? '').trim());
  if (!m) return 'INVALID_PRICE';
  const whole = m[1]!.replace(/^0+(?=\d)/, '');
  const cents = (m[2] ?? '').padEnd(2, '0');
  if (/^0+$/.test(whole) && cents === '00') return 'INVALID_PRICE';
  return { amount: `${whole}.${cents}`, currency: currency as Currency };
}

const SATS_PER_BTC = 100_000_000n;

/** 120000 → "0.00120000" (BIP21 amounts are in BTC). */
export function satsToBtc(sats: number | bigint): string {
  const value = BigInt(sats);
  if (value < 0n) throw new RangeError('negative amount');
  return `${value / SATS_PER_BTC}.${(value % SATS_PER_BTC).toString().padStart(8, '0')}`;
}

/** "0.00025500" → 25500; more than 8 decimals (sub-satoshi) is rounded up to the next satoshi. */
export function btcToSats(btc: string): number {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(btc.trim());
  if (!m) throw new RangeError(`not a BTC amount: ${btc}`);
  const decimals = m[2] ?? '';
  const head = BigInt(m[1]!) * SATS_PER_BTC + BigInt((decimals.slice(0, 8) || '0').padEnd(8, '0'));
  const roundUp = /[1-9]/.test(decimals.slice(8)) ? 1n : 0n;
  return Number(head + roundUp);
}
