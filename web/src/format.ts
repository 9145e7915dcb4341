import { useTranslation } from 'react-i18next';
import type { Money } from './api';

/** Dates, times, numbers and money in the page's language (Intl), in a given time zone or the browser's. */
export function formatters(locale: string) {
  const dateTime = (iso: string, options: Intl.DateTimeFormatOptions, timeZone?: string | null) => {
    try {
      return new Intl.DateTimeFormat(locale, { ...options, timeZone: timeZone || undefined }).format(new Date(iso));
    } catch {
      return new Intl.DateTimeFormat(locale, options).format(new Date(iso));
    }
  };
  return {
    /** CHF, EUR…; sats are not an ISO currency: a whole number and "sats". */
    money(money: Money | null | undefined): string {
      if (!money) return '—';
      if (money.currency.toLowerCase() === 'sats' || money.currency === 'SAT') return `${new Intl.NumberFormat(locale).format(Number(money.amount))} sats`;
      try {
        return new Intl.NumberFormat(locale, { style: 'currency', currency: money.currency }).format(Number(money.amount));
      } catch {
        return `${money.amount} ${money.currency}`;
      }
    },
    sats: (n: number) => `${new Intl.NumberFormat(locale).format(n)} sats`,
    /** An amount in minor units (centimes, cents: the ledger's) as money: 12000 CHF → "CHF 120.00". */
    minor(minorUnits: number, currency: string | null | undefined): string {
      if (!currency) return '—';
      const abs = Math.abs(minorUnits);
      return formatters(locale).money({ amount: `${minorUnits < 0 ? '-' : ''}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`, currency });
    },
    instant: (iso: string, timeZone?: string | null) => dateTime(iso, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }, timeZone),
    time: (iso: string, timeZone?: string | null) => dateTime(iso, { hour: '2-digit', minute: '2-digit' }, timeZone),
    day: (iso: string, timeZone?: string | null) => dateTime(iso, { weekday: 'long', day: 'numeric', month: 'long' }, timeZone),
    /** The browser's own time zone (the patient's). */
    localZone: () => Intl.DateTimeFormat().resolvedOptions().timeZone,
  };
}

export function useFormat() {
  const { i18n } = useTranslation();
  return formatters(i18n.language);
}
