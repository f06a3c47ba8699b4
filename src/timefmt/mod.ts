// One grammar for times and durations across tcptrail: CLI flags, API query
// parameters and the alert rules file all parse (and print) them here. No
// dependencies but the error base (src/errors), so the thinnest command can load it.
export { InvalidTimeError, isInvalidTimeError, type InvalidTimeOptions } from "./errors.js";
export { DURATION_SYNTAX, durationUs, formatDurationMs, parseDurationMs, parseDurationUs } from "./duration.js";
export { daysInMonth, isLeapYear, parseRfc3339, type Rfc3339Result } from "./rfc3339.js";
export { TIME_SYNTAX, parseTime, parseTimeUs, type ParseTimeOptions } from "./time-point.js";
