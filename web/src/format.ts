const counts = new Intl.NumberFormat('en-US');
/** "3 Dec 2026, 14:05 CET": in the browser's zone, which it names (emails and link pages say UTC). */
const dateTimes = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZoneName: 'short',
});

export const formatCount = (value: number): string => counts.format(value);

/** 0.2345 → "23.5%". */
export const formatPercent = (share: number): string => `${(share * 100).toFixed(1)}%`;

/** A relative change: "+12.5%", "-3.0%", or "new" when there was nothing before. */
export function formatChange(change: number | null): string {
  if (change === null) return 'new';
  return `${change > 0 ? '+' : ''}${(change * 100).toFixed(1)}%`;
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

export const formatDateTime = (iso: string): string => dateTimes.format(new Date(iso));

/** The zone whose calendar days the analytics count (`ANALYTICS_TIMEZONE`), whatever the browser's. */
let analyticsDays = daysIn('UTC');

export function setAnalyticsTimeZone(timeZone: string): void {
  try {
    analyticsDays = daysIn(timeZone);
  } catch {
    // A zone newer than this browser's data (RangeError): UTC's days, which only the default range's end follows.
  }
}

function daysIn(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
}

/** Today as `YYYY-MM-DD` in the analytics' time zone: the last day the API has counted activity for. */
export function today(): string {
  const parts = analyticsDays.formatToParts(new Date());
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)!.value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}

export function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** A calendar day as the Unix time (seconds) of its UTC midnight: charts label it in UTC, so it stays that day. */
export const dayToSeconds = (day: string): number => Date.parse(`${day}T00:00:00Z`) / 1000;
