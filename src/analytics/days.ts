/** Calendar days as `YYYY-MM-DD` strings: what the API speaks, and what PostgreSQL's `date` reads and prints. */
export type Day = string;

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MS_PER_DAY = 86_400_000;

/** A real calendar date written `YYYY-MM-DD` (2026-02-30 is not one). */
export function isDay(text: string): boolean {
  const match = DAY.exec(text);
  if (!match) return false;
  const date = new Date(Date.UTC(+match[1]!, +match[2]! - 1, +match[3]!));
  return date.toISOString().startsWith(text);
}

export function addDays(day: Day, days: number): Day {
  return new Date(Date.parse(day) + days * MS_PER_DAY).toISOString().slice(0, 10);
}

/** Days from `from` to `to`: 0 for the same day. */
export function daysBetween(from: Day, to: Day): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / MS_PER_DAY);
}

/** The Monday of the week that holds `day` (weeks start on Monday). */
export function mondayOf(day: Day): Day {
  return addDays(day, -((new Date(Date.parse(day)).getUTCDay() + 6) % 7));
}

const calendars = new Map<string, Intl.DateTimeFormat>();

/** The last answer of dayIn: every signed-in request asks for the current day, and formatting it is not free. */
let lastDay = { timeZone: '', minute: Number.NaN, day: '' };

/**
 * The calendar day of an instant in an IANA time zone. Remembered for the rest of the minute: zones' offsets (since
 * 1972) are whole minutes, so a day never changes within one.
 */
export function dayIn(timeZone: string, instant: Date): Day {
  const minute = Math.floor(instant.getTime() / 60_000);
  if (minute === lastDay.minute && timeZone === lastDay.timeZone) return lastDay.day;
  let calendar = calendars.get(timeZone);
  if (!calendar) {
    // en-CA writes dates as YYYY-MM-DD.
    calendar = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    calendars.set(timeZone, calendar);
  }
  const day = calendar.format(instant);
  lastDay = { timeZone, minute, day };
  return day;
}
