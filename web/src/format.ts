import { useTranslation } from 'react-i18next';
import type { Money } from './api';

/**
 * Intl formatters are costly to make (~0.1 ms each, several times that on a slow phone) and cheap to
 * use: a professional's page formats each of its slots three or four times per render. One per
 * language, options and time zone, kept for the page's life (a handful in practice).
 */
const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();
const numberFormats = new Map<string, Intl.NumberFormat>();
function dateTimeFormat(locale: string, options: Intl.DateTimeFormatOptions, timeZone?: string | null): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone ?? ''}|${JSON.stringify(options)}`;
  let format = dateTimeFormats.get(key);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat(locale, { ...options, timeZone: timeZone || undefined });
    } catch {
      // A time zone this browser does not know: the browser's own then.
      format = new Intl.DateTimeFormat(locale, options);
    }
    dateTimeFormats.set(key, format);
  }
  return format;
}
function numberFormat(locale: string, options?: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale}|${JSON.stringify(options ?? {})}`;
  let format = numberFormats.get(key);
  if (!format) numberFormats.set(key, (format = new Intl.NumberFormat(locale, options)));
  return format;
}

/** Dates, times, numbers and money in the page's language (Intl), in a given time zone or the browser's. */
export function formatters(locale: string) {
  const dateTime = (iso: string, options: Intl.DateTimeFormatOptions, timeZone?: string | null) => dateTimeFormat(locale, options, timeZone).format(new Date(iso));
  return {
    /** CHF, EUR…; sats are not an ISO currency: a whole number and "sats". */
    money(money: Money | null | undefined): string {
      if (!money) return '—';
      if (money.currency.toLowerCase() === 'sats' || money.currency === 'SAT') return `${numberFormat(locale).format(Number(money.amount))} sats`;
      try {
        return numberFormat(locale, { style: 'currency', currency: money.currency }).format(Number(money.amount));
      } catch {
        return `${money.amount} ${money.currency}`;
      }
    },
    sats: (n: number) => `${numberFormat(locale).format(n)} sats`,
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
    localZone: () => dateTimeFormat(locale, {}).resolvedOptions().timeZone,
  };
}

export function useFormat() {
  const { i18n } = useTranslation();
  return formatters(i18n.language);
}
