/** Next Monday 09:00 Europe/Zurich, at least two days ahead, as a UTC instant. */
export function nextMondayNine(): Date {
  const d = new Date(Date.now() + 2 * 86_400_000);
  while (d.getUTCDay() !== 1) d.setUTCDate(d.getUTCDate() + 1);
  const probe = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 12));
  const offsetHours = Number(new Intl.DateTimeFormat('en', { timeZone: 'Europe/Zurich', hour: 'numeric', hourCycle: 'h23' }).format(probe)) - 12;
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 9 - offsetHours));
}
