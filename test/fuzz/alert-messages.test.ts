// Fuzzing what reads tcptrail.v1.alerts.<severity>: decodeAlert (the reader
// behind `tcptrail alerts` counts an AlertDecodeError as malformed and
// rethrows anything else, which would end the subscription) and the two
// shapes an alert is printed in. Anyone can publish on the subject, so any
// bytes must end as an AlertDecodeError or a plausible alert that prints as
// one line with no terminal control in it.
//
// Nothing in tcptrail subscribes to tcptrail.v1.traces.* (the consumer only
// publishes there), so there is no trace decoder on a subject to fuzz.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { alertToJson, decodeAlert, encodeAlert, formatAlertText, isAlertDecodeError } from "../../src/alert/mod.js";
import { Severity, v1, type Alert } from "../../src/model/mod.js";
import { CaseCount, applyByteEdits, editsArb, fuzzParams, withinHangLimit } from "./budget.js";

const count = new CaseCount();

// C0, DEL, C1 and the bidi controls: what must never reach a terminal raw (src/text/escape.ts).
// eslint-disable-next-line no-control-regex
const TERMINAL_CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** Decode as the reader does, and check what the result promises. Returns whether it was an alert. */
function handle(bytes: Uint8Array): Alert | null {
  let alert: Alert;
  try {
    alert = withinHangLimit(
      () => `decoding ${bytes.length} bytes`,
      () => decodeAlert(bytes),
    );
  } catch (e) {
    if (!isAlertDecodeError(e)) throw e;
    if (e.message.length === 0) throw new Error("an AlertDecodeError with no message");
    return null;
  }
  if (alert.alertId === "" || alert.rule === "") throw new Error("an alert without alert_id or rule");
  if (![Severity.SEVERITY_INFO, Severity.SEVERITY_WARNING, Severity.SEVERITY_CRITICAL].includes(alert.severity)) {
    throw new Error(`severity ${alert.severity}`);
  }
  const text = formatAlertText(alert);
  if (TERMINAL_CONTROL.test(text)) throw new Error(`printed with a control character: ${JSON.stringify(text)}`);
  const json = JSON.stringify(alertToJson(alert));
  if (typeof json !== "string") throw new Error("alertToJson gave nothing");
  return alert;
}

const anyText = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: "binary", maxLength: 60 }), fc.constantFrom("\u001b[2J", "a\nb", "\u202eevil", "\u0085"));
const validAlert: fc.Arbitrary<Alert> = fc
  .record({
    alertId: fc.string({ minLength: 1, maxLength: 40 }),
    rule: fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,30}$/),
    severity: fc.constantFrom(Severity.SEVERITY_INFO, Severity.SEVERITY_WARNING, Severity.SEVERITY_CRITICAL),
    traceId: fc.string({ maxLength: 40 }),
    explanation: anyText,
    timeUs: fc.oneof(fc.constant(0), fc.integer({ min: 1_577_836_800_000_000, max: 4_102_444_800_000_000 })),
    count: fc.nat({ max: 2 ** 32 - 1 }),
    sourcePod: anyText,
    destination: anyText,
  })
  .map((props) => v1.Alert.create(props));

const u64Any = fc.oneof(fc.maxSafeNat(), fc.constantFrom(2 ** 53, 2 ** 63, 2 ** 64 - 2 ** 11), fc.double({ min: 0, max: 2 ** 64 - 2 ** 11, noNaN: true }).map(Math.floor));
const anyAlertProps = fc.record(
  {
    alertId: anyText,
    rule: anyText,
    severity: fc.oneof(fc.integer({ min: -2, max: 8 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
    traceId: anyText,
    explanation: anyText,
    timeUs: u64Any,
    count: fc.nat({ max: 2 ** 32 - 1 }),
    sourcePod: anyText,
    destination: anyText,
  },
  { requiredKeys: [] },
);

describe("alert messages under fuzzing", () => {
  test("arbitrary bytes: an AlertDecodeError or a plausible alert", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        count.add();
        handle(bytes);
      }),
      fuzzParams(40_000),
    );
  });

  test("what the engine publishes decodes to the same alert", () => {
    fc.assert(
      fc.property(validAlert, (alert) => {
        count.add();
        const decoded = handle(encodeAlert(alert));
        // Compared with every field spelled out: a decoded message leaves defaults on its prototype.
        expect(decoded && v1.Alert.toObject(decoded, { defaults: true })).toEqual(v1.Alert.toObject(alert, { defaults: true }));
      }),
      fuzzParams(5_000),
    );
  });

  const VARIANTS = 20;

  test("a published alert with bytes flipped, inserted, deleted or cut", () => {
    const seen = { alerts: 0, malformed: 0 };
    fc.assert(
      fc.property(validAlert, fc.array(editsArb(fc.string({ unit: "binary", maxLength: 5 }), 3), { minLength: VARIANTS, maxLength: VARIANTS }), (alert, editSets) => {
        const bytes = encodeAlert(alert);
        for (const edits of editSets) {
          count.add();
          if (handle(applyByteEdits(bytes, edits))) seen.alerts++;
          else seen.malformed++;
        }
      }),
      fuzzParams(1_500),
    );
    expect(seen.alerts).toBeGreaterThan(0);
    expect(seen.malformed).toBeGreaterThan(0);
  });

  test("any value in any field", () => {
    const seen = { alerts: 0, malformed: 0 };
    fc.assert(
      fc.property(anyAlertProps, (props) => {
        count.add();
        if (handle(v1.Alert.encode(props).finish())) seen.alerts++;
        else seen.malformed++;
      }),
      fuzzParams(30_000),
    );
    expect(seen.alerts).toBeGreaterThan(0);
    expect(seen.malformed).toBeGreaterThan(0);
  });

  test(`the decoder saw at least the budget of generated messages`, () => {
    count.expectBudgetSpent();
  });
});
