// RFC 3339 times ("2026-11-21T10:00:00Z", "2026-11-21T12:00:00.250+02:00") to
// microseconds since the epoch. Date.parse is not used: it accepts far more
// than RFC 3339, guesses time zones, and rolls 2026-02-31 over to March 3.

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

export const isLeapYear = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Either the time, or why the text is no RFC 3339 time (a sentence fragment; undefined when it does not even look like one). */
export type Rfc3339Result = { us: number } | { problem: string | undefined };

export function parseRfc3339(text: string): Rfc3339Result {
  const m = RFC3339.exec(text);
  if (!m) return { problem: undefined };
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12) return { problem: `there is no month ${mo}` };
  if (d < 1 || d > daysInMonth(y, mo)) return { problem: `${MONTHS[mo - 1]} ${y} has ${daysInMonth(y, mo)} days` };
  // 60 (a leap second) is valid RFC 3339 but no clock here can name it.
  if (h > 23 || mi > 59 || s > 59) return { problem: `${m[4]}:${m[5]}:${m[6]} is not a time of day` };
  let offsetMin = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return { problem: `${m[9]}${m[10]}:${m[11]} is not a UTC offset` };
    offsetMin = (m[9] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi - offsetMin, s, 0);
  // Truncated to µs, never rounded up, so a time stays inside its second.
  const fractionUs = Number((m[7] ?? "").padEnd(6, "0").slice(0, 6));
  return { us: date.getTime() * 1_000 + fractionUs };
}
