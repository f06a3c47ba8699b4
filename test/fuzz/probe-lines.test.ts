// Fuzzing the probe line parser (and the splitter in front of it): whatever
// bpftrace or a corrupted pipe hands it, the parser never throws, never
// hangs, hands on only sane events, and counts every line it rejects, once.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { LineParser, LineSplitter, type ParsedEvent } from "../../src/probes/mod.js";
import { MAX_KERNEL_NS } from "../../src/model/mod.js";
import { CaseCount, applyEdits, editsArb, fuzzParams, withinHangLimit } from "./budget.js";
import { bpftraceLine, grammarLine, lineText, readFieldsOf, type GrammarLine } from "./probe-grammar.js";

/** What the parser did with one line. */
type Outcome = "events" | "begin" | "exit" | "lost" | "malformed" | "ignored" | "empty";

/**
 * A parser with every handler counted, so that each line's outcome can be
 * told apart and the parser's own counters checked against the callbacks.
 */
class Recorder {
  events: ParsedEvent[] = [];
  begins = 0;
  exits = 0;
  lost = 0;
  malformedCalls = 0;
  readonly parser = new LineParser({
    onEvent: (e) => this.events.push(e),
    onBegin: () => this.begins++,
    onProcessExit: () => this.exits++,
    onLost: () => this.lost++,
    onMalformed: () => this.malformedCalls++,
  });

  /** Parse text[start, end) and check the accounting of that one line. */
  feedRange(text: string, start: number, end: number): Outcome {
    const events = this.events.length;
    const begins = this.begins;
    const exits = this.exits;
    const lost = this.lost;
    const malformed = this.malformedCalls;
    const counted = this.parser.malformed;
    const lines = this.parser.lines;
    withinHangLimit(
      () => `parsing a ${end - start}-char line`,
      () => this.parser.parseRange(text, start, end),
    );
    const empty = end === start;
    const what = (): string => JSON.stringify(text.slice(start, end));
    // The parser's counters move with its callbacks: one line, at most one rejection.
    check(this.parser.lines - lines === (empty ? 0 : 1), () => `${what()}: lines counted ${this.parser.lines - lines}`);
    check(this.parser.malformed - counted === this.malformedCalls - malformed, () => `${what()}: counter and onMalformed disagree`);
    let outcome: Outcome | undefined;
    let outcomes = 0;
    if (this.events.length > events) (outcome = "events"), outcomes++;
    if (this.begins > begins) (outcome = "begin"), outcomes++;
    if (this.exits > exits) (outcome = "exit"), outcomes++;
    if (this.lost > lost) (outcome = "lost"), outcomes++;
    if (this.malformedCalls > malformed) (outcome = "malformed"), outcomes++;
    check(this.begins - begins <= 1 && this.exits - exits <= 1 && this.lost - lost <= 1 && this.malformedCalls - malformed <= 1, () => `${what()}: a callback fired twice`);
    if (empty) {
      check(outcomes === 0, () => "an empty line had an outcome");
      return "empty";
    }
    // Exactly one outcome per line: handed on, or rejected and counted. Only
    // bpftrace's "Attaching N probes..." banner may pass unremarked.
    if (outcome === undefined) {
      check(text.startsWith("Attaching", start) && (end - start === 9 || text.charCodeAt(start + 9) === 32), () => `${what()} was neither handed on nor counted`);
      return "ignored";
    }
    check(outcomes === 1, () => `${what()} had ${outcomes} outcomes`);
    for (let i = events; i < this.events.length; i++) {
      const why = insane(this.events[i]!);
      if (why !== null) throw new Error(`${what()} gave an event with a bad ${why}: ${stringify(this.events[i])}`);
    }
    return outcome;
  }

  feed(line: string): Outcome {
    return this.feedRange(line, 0, line.length);
  }
}

/** A failed check, cheaper than expect() on the hot path (fast-check reports the case). */
function check(ok: boolean, message: () => string): void {
  if (!ok) throw new Error(message());
}

const stringify = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `${x}n` : x));

const isCount = (v: number | null | undefined): boolean => v === undefined || v === null || (Number.isInteger(v) && v >= 0);

/** What no event the parser hands on may have; null when the event is sane. */
function insane(e: ParsedEvent): string | null {
  if (typeof e.tsNs !== "bigint" || e.tsNs < 0n || e.tsNs > MAX_KERNEL_NS) return "tsNs";
  if (!/^[0-9a-f]{0,16}$/.test(e.sock)) return "sock";
  for (const ep of [e.local, e.remote, e.target]) {
    if (ep && (typeof ep.ip !== "string" || ep.ip === "" || !Number.isInteger(ep.port) || ep.port! < 0 || ep.port! > 65535)) return "endpoint";
  }
  if (e.family !== undefined && e.family !== 4 && e.family !== 6) return "family";
  for (const [name, v] of Object.entries({ netns: e.netns, uid: e.uid, oldState: e.oldState, newState: e.newState, resetReason: e.resetReason, shutdownHow: e.shutdownHow, fd: e.fd, pid: e.process?.pid, tid: e.process?.tid })) {
    if (!isCount(v)) return name;
  }
  if (e.ret !== undefined && e.ret !== null && !Number.isInteger(e.ret)) return "ret";
  if (e.linkedSock != null && (!/^[0-9a-f]{1,16}$/.test(e.linkedSock) || e.linkedSock === e.sock || e.sock === "")) return "linkedSock";
  if (!isCount(e.linkSources)) return "linkSources";
  return null;
}

const count = new CaseCount();

/** A field broken so that the README's grammar no longer allows the line. */
type Breakage = { kinds: Parameters<typeof readFieldsOf>[1]; value: fc.Arbitrary<string> };

const BREAKAGES: readonly Breakage[] = [
  // ts, born, est: "an unsigned 64-bit decimal, read exactly"; anything else makes the line malformed.
  {
    kinds: ["ts", "time"],
    value: fc.oneof(
      fc.constantFrom("", "-1", "+1", "0x10", "1e3", "1.0", "٣"),
      fc.bigInt({ min: 1n << 64n, max: 1n << 70n }).map(String),
      fc.stringMatching(/^[0-9]{21,40}$/),
    ),
  },
  { kinds: ["sock"], value: fc.oneof(fc.constantFrom("", "FFFF", "-1", "0x1f", "ffff88810595Gbc0"), fc.stringMatching(/^[0-9a-f]{17,40}$/)) },
  { kinds: ["num", "port", "opens"], value: fc.integer({ min: 1, max: 2 ** 40 }).map((n) => `-${n}`) },
  { kinds: ["port"], value: fc.integer({ min: 65536, max: 2 ** 31 }).map(String) },
  { kinds: ["fam"], value: fc.constantFrom("", "0", "5", "46", "x", "4 ") },
  { kinds: ["ip"], value: fc.oneof(fc.constant(""), fc.stringMatching(/^[g-z]{1,12}$/)) },
  { kinds: ["opens"], value: fc.integer({ min: 2, max: 1000 }).map(String) },
];

/** A valid line with one field it reads replaced by a value the grammar forbids. */
const brokenLine: fc.Arbitrary<{ line: string; field: number; value: string }> = fc
  .tuple(grammarLine, fc.constantFrom(...BREAKAGES))
  .filter(([line, b]) => readFieldsOf(line, b.kinds).length > 0)
  .chain(([line, b]) =>
    fc.tuple(fc.constantFrom(...readFieldsOf(line, b.kinds)), b.value).map(([field, value]) => {
      const fields = [...line.fields];
      fields[field] = value;
      return { line: fields.join(" "), field, value };
    }),
  );

/** A valid line with a field too many or too few for its tag. */
const wrongArity: fc.Arbitrary<string> = grammarLine.chain((l: GrammarLine) => {
  const min = l.fields.length; // the comm may be empty but must be there
  const fewer = fc.integer({ min: 1, max: min - 1 }).map((k) => l.fields.slice(0, k).join(" "));
  return l.fixedArity ? fc.oneof(fewer, fc.constant(`${lineText(l)} 0`)) : fewer;
});

describe("probe line parser under fuzzing", () => {
  test("every line the grammar allows is handed on as sane events", () => {
    const r = new Recorder();
    fc.assert(
      fc.property(grammarLine, (l) => {
        count.add();
        const outcome = r.feed(lineText(l));
        const want = l.fields[0] === "B" ? "begin" : l.fields[0] === "P" ? "exit" : "events";
        check(outcome === want, () => `${lineText(l)}: ${outcome}`);
      }),
      fuzzParams(25_000),
    );
    expect(r.parser.malformed).toBe(0);
  });

  test("bpftrace's own lines are understood, not counted malformed", () => {
    const r = new Recorder();
    fc.assert(
      fc.property(bpftraceLine, (line) => {
        count.add();
        const outcome = r.feed(line);
        check(outcome === (line.startsWith("Lost") ? "lost" : "ignored"), () => `${line}: ${outcome}`);
      }),
      fuzzParams(2_000),
    );
  });

  test("a field the grammar forbids makes the line malformed, counted once", () => {
    const r = new Recorder();
    let fed = 0;
    fc.assert(
      fc.property(brokenLine, ({ line, field, value }) => {
        count.add();
        fed++;
        const outcome = r.feed(line);
        check(outcome === "malformed", () => `field ${field} = ${JSON.stringify(value)} in ${JSON.stringify(line)}: ${outcome}`);
      }),
      fuzzParams(25_000),
    );
    expect(r.parser.malformed).toBe(fed);
    expect(r.malformedCalls).toBe(fed);
  });

  test("a field too many or too few makes the line malformed", () => {
    const r = new Recorder();
    fc.assert(
      fc.property(wrongArity, (line) => {
        count.add();
        const outcome = r.feed(line);
        check(outcome === "malformed", () => `${JSON.stringify(line)}: ${outcome}`);
      }),
      fuzzParams(8_000),
    );
  });

  test("valid lines with bytes flipped, inserted, deleted or cut: handed on sane, or counted", () => {
    const r = new Recorder();
    const tally = { rejected: 0 };
    const insertText = fc.oneof(fc.string({ unit: "binary", maxLength: 6 }), fc.constantFrom(" ", "-", "0", "9", "f", ":", ".", "99999999999999999999"));
    fc.assert(
      fc.property(grammarLine, editsArb(insertText), (l, edits) => {
        count.add();
        if (r.feed(applyEdits(lineText(l), edits)) === "malformed") tally.rejected++;
      }),
      fuzzParams(25_000),
    );
    // Every rejection the test saw is one the parser counted, and no other.
    expect(r.parser.malformed).toBe(tally.rejected);
  });

  test("arbitrary text: never a throw, every line accounted for", () => {
    const r = new Recorder();
    const grammarChars = fc.string({ unit: fc.constantFrom(..."OSEYRrKCAXHDBL 0123456789abcdef.:-+x\u00ff\ufffd"), maxLength: 80 });
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 120 }), grammarChars), (line) => {
        count.add();
        r.feed(line);
      }),
      fuzzParams(12_000),
    );
  });

  test("very long fields are read in linear time", () => {
    const r = new Recorder();
    const filler = fc.constantFrom("9", "f", " ", "1.", "a:", "\u00e9", "-");
    fc.assert(
      fc.property(grammarLine, fc.nat(), filler, fc.integer({ min: 1_000, max: 100_000 }), (l, which, fill, n) => {
        count.add();
        const fields = [...l.fields];
        fields[1 + (which % (fields.length - 1))] = fill.repeat(Math.ceil(n / fill.length));
        r.feed(fields.join(" "));
      }),
      fuzzParams(300),
    );
  });

  test("bytes cut into chunks anywhere (invalid UTF-8 too): every line reaches the parser once", () => {
    const byteLine = fc.oneof(
      grammarLine.map((l) => Buffer.from(lineText(l), "utf8")),
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b.map((x) => (x === 10 ? 32 : x)))),
    );
    fc.assert(
      fc.property(fc.array(byteLine, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 6 }), fc.boolean(), (lines, cutsRaw, finalNewline) => {
        count.add(lines.length);
        const bytes = Buffer.concat(lines.flatMap((b, i) => (i < lines.length - 1 || finalNewline ? [b, Buffer.from("\n")] : [b])));
        const r = new Recorder();
        const outcomes: Outcome[] = [];
        const splitter = new LineSplitter((text, start, end) => outcomes.push(r.feedRange(text, start, end)));
        const cuts = [...new Set(cutsRaw.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        let at = 0;
        for (const cut of [...cuts, bytes.length]) {
          splitter.push(bytes.subarray(at, cut));
          at = cut;
        }
        splitter.end();
        // Newline bytes never occur inside a UTF-8 sequence, so the lines are the byte segments between them.
        const nonEmpty = lines.filter((b) => b.length > 0).length;
        check(r.parser.lines === nonEmpty, () => `${r.parser.lines} lines parsed, ${nonEmpty} sent`);
        check(outcomes.filter((o) => o !== "empty").length === nonEmpty, () => `${outcomes.length} lines delivered, ${nonEmpty} sent`);
        check(r.parser.malformed === outcomes.filter((o) => o === "malformed").length, () => "rejections miscounted");
      }),
      fuzzParams(2_500),
    );
  });

  test(`the parser saw at least the budget of generated lines`, () => {
    count.expectBudgetSpent();
  });
});

// Found by this fuzzing, in src/probes/line-parser.ts's num(): a field that
// is not a plain decimal but that Number() reads ("0x1f", "1e3", "+7", "1.0",
// "-0", "0b1") is taken as that number, and one past 2^53 is taken rounded
// (a netns of 99999999999999999999 becomes 1e20). The README's grammar has
// unsigned decimals; such a line is counted malformed.
describe("numbers the grammar does not allow", () => {
  const notPlainDecimal = fc.oneof(
    fc.constantFrom("0x1f", "1e3", "+7", "1.0", "-0", "0b1", "0o7", "1.", ".5e1"),
    fc.bigInt({ min: 2n ** 53n + 1n, max: 10n ** 20n - 1n }).map(String),
  );

  test("a numeric field that is not a plain, exact decimal makes the line malformed", () => {
    const r = new Recorder();
    const line = fc
      .tuple(grammarLine, notPlainDecimal)
      .filter(([l]) => readFieldsOf(l, ["num", "port"]).length > 0)
      .chain(([l, v]) =>
        fc.constantFrom(...readFieldsOf(l, ["num", "port"])).map((i) => {
          const fields = [...l.fields];
          fields[i] = v;
          return fields.join(" ");
        }),
      );
    fc.assert(
      fc.property(line, (text) => {
        expect(r.feed(text), JSON.stringify(text)).toBe("malformed");
      }),
      fuzzParams(2_000),
    );
  });

  // The shrunk counterexamples fuzzing found.
  test.each([
    ["S 1000 ffff1 0x1 1e0"],
    ["S 1000 ffff1 +1 1.0"],
    ["K 1000 ffff1 -0"],
    ["O 3000 ffff3 1 8 4 10.0.0.2 8080 10.0.0.1 40000 99999999999999999999 0 266 2000 2100"],
    ["D 1000 ffff1 7 7 5 4 10.0.0.2 1e3 haproxy"],
  ])("%s is malformed", (line) => {
    const r = new Recorder();
    expect(r.feed(line)).toBe("malformed");
  });
});
