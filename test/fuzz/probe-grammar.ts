// Valid probe lines generated from the grammar in probes/README.md, each with
// a map of what its fields are, so that a test can break one field on purpose
// and know the line must then be rejected. The shapes are spelled out here,
// independently of src/probes/line-parser.ts: the fuzz tests check the parser
// against the README, not against itself.
import fc from "fast-check";

/** How the parser reads a field. */
export type FieldKind =
  | "ts" // kernel time on the line itself (u64 decimal)
  | "time" // a folded kernel time (born, est): u64 decimal, 0 = none
  | "sock"
  | "num" // an unsigned decimal (pid, fd, netns, uid, state, bits, reason...)
  | "port" // an unsigned decimal up to 65535
  | "fam" // 4 or 6
  | "ip"
  | "ret" // a signed decimal (syscall return)
  | "opens" // 0 or 1
  | "comm"; // the rest of the line, spaces included

export interface GrammarLine {
  /** fields[0] is the tag; a comm is one element even when it holds spaces. */
  fields: string[];
  kinds: FieldKind[];
  /** The tag takes exactly fields.length fields (no comm at the end). */
  fixedArity: boolean;
  /**
   * Fields the parser reads on this line. A connect/accept line whose bits
   * are 0 announces nothing, so its socket tuple is not read at all.
   */
  read: boolean[];
}

export const lineText = (l: GrammarLine): string => l.fields.join(" ");

const MAX_U64 = (1n << 64n) - 1n;

// The kernel clock is far past 0 when the probe runs; a line's folded events
// sit a few ns before its ts, so a valid ts leaves room for them.
const ts = fc.bigInt({ min: 16n, max: MAX_U64 }).map(String);
const time = fc.oneof(fc.constant("0"), fc.bigInt({ min: 0n, max: MAX_U64 }).map(String));
// Hex from integers: stringMatching is ~4x slower, and this runs 100 000 times.
const hex = (maxBits: bigint): fc.Arbitrary<string> => fc.bigInt({ min: 0n, max: (1n << maxBits) - 1n }).map((v) => v.toString(16));
const sock = fc.oneof(fc.constant("0"), hex(64n));
// A link names two real sockets ("0" is none), and two different ones (lineOf sees to that).
const someSock = fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }).map((v) => v.toString(16));
const u32 = fc.nat({ max: 2 ** 32 - 1 }).map(String);
const state = fc.integer({ min: 0, max: 12 }).map(String);
// Masks with the births and handshakes the parser replays, and any other.
const bits = fc.oneof(fc.constantFrom(0, 4, 6, 8, 10, 134, 266, 902, 1024), fc.nat({ max: 2 ** 32 - 1 })).map(String);
const reason = fc.integer({ min: 0, max: 40 }).map(String);
const port = fc.integer({ min: 0, max: 65535 }).map(String);
const fam = fc.constantFrom("4", "6");
const hex4 = fc.integer({ min: 0, max: 0xffff }).map((v) => v.toString(16).padStart(4, "0"));
const ip = fc.oneof(
  fc.ipV4(),
  fc.array(hex4, { minLength: 8, maxLength: 8 }).map((g) => g.join(":")),
  fc.ipV4().map((v4) => `::ffff:${v4}`),
  fc.constantFrom("::1", "::", "fe80::1"),
);
const ret = fc.integer({ min: -4095, max: 2 ** 31 - 1 }).map(String);
const opens = fc.constantFrom("0", "1");
// Any text but a newline (the line's end): spaces, other scripts, emoji, controls.
const comm = fc.string({ unit: "binary", maxLength: 24 }).map((s) => s.replace(/\n/g, "_"));

type Spec = readonly (readonly [FieldKind, fc.Arbitrary<string>])[];

const TUPLE: Spec = [
  ["fam", fam],
  ["ip", ip],
  ["port", port],
  ["ip", ip],
  ["port", port],
  ["num", u32],
  ["num", u32],
];

/** Field specs after the tag, per tag (probes/README.md, "Line grammar"). */
const SPECS: Readonly<Record<string, Spec>> = {
  B: [["ts", ts]],
  O: [["ts", ts], ["sock", sock], ["num", state], ["num", state], ["fam", fam], ["ip", ip], ["port", port], ["ip", ip], ["port", port], ["num", u32], ["num", u32], ["num", bits], ["time", time], ["time", time]],
  S: [["ts", ts], ["sock", sock], ["num", state], ["num", state]],
  E: [["ts", ts], ["sock", sock], ["num", state], ["num", bits]],
  Y: [["ts", ts], ["sock", sock], ["num", state], ["num", state], ["num", bits], ["num", u32], ["num", u32], ["num", u32], ["comm", comm]],
  R: [["ts", ts], ["sock", sock], ["num", state], ["num", reason], ["fam", fam], ["ip", ip], ["port", port], ["ip", ip], ["port", port], ["num", u32]],
  r: [["ts", ts], ["sock", sock], ["fam", fam], ["ip", ip], ["port", port], ["ip", ip], ["port", port], ["num", u32], ["num", u32], ["num", state], ["num", bits], ["opens", opens], ["time", time], ["time", time]],
  K: [["ts", ts], ["sock", sock], ["num", state]],
  C: [["ts", ts], ["sock", sock], ["num", u32], ["num", u32], ["ret", ret], ["num", u32], ["fam", fam], ["ip", ip], ["port", port], ["num", state], ["num", bits], ["time", time], ["time", time], ...TUPLE, ["comm", comm]],
  A: [["ts", ts], ["sock", sock], ["num", u32], ["num", u32], ["num", u32], ["num", state], ["num", bits], ["time", time], ["time", time], ...TUPLE, ["comm", comm]],
  X: [["ts", ts], ["sock", sock], ["num", u32], ["num", u32], ["num", u32], ["comm", comm]],
  H: [["ts", ts], ["sock", sock], ["num", u32], ["num", u32], ["num", u32], ["num", fc.integer({ min: 0, max: 2 }).map(String)], ["comm", comm]],
  D: [["ts", ts], ["sock", sock], ["num", u32], ["num", u32], ["num", u32], ["fam", fam], ["ip", ip], ["port", port], ["comm", comm]],
  L: [["ts", ts], ["sock", someSock], ["sock", someSock], ["num", u32], ["num", u32], ["num", u32], ["comm", comm]],
  P: [["ts", ts], ["num", u32]],
};

/** Where the bits field and the socket tuple are on connect/accept lines. */
const ANNOUNCE: Readonly<Record<string, { bits: number; tuple: number }>> = { C: { bits: 11, tuple: 14 }, A: { bits: 7, tuple: 10 } };

export const TAGS = Object.keys(SPECS);

function lineOf(tag: string): fc.Arbitrary<GrammarLine> {
  const spec = SPECS[tag]!;
  return fc.tuple(...spec.map(([, arb]) => arb)).map((values) => {
    const kinds: FieldKind[] = ["comm", ...spec.map(([k]) => k)];
    const fields = [tag, ...values];
    // A socket linked to itself is no link: the grammar's L names another socket.
    if (tag === "L" && fields[3] === fields[2]) fields[3] = fields[2] === "1" ? "2" : "1";
    const read = fields.map((_, i) => i > 0);
    const a = ANNOUNCE[tag];
    if (a && fields[a.bits] === "0") for (let i = a.tuple; i < a.tuple + TUPLE.length; i++) read[i] = false;
    return { fields, kinds, fixedArity: kinds[kinds.length - 1] !== "comm", read };
  });
}

/** A valid line of any tag. */
export const grammarLine: fc.Arbitrary<GrammarLine> = fc.constantFrom(...TAGS).chain(lineOf);

/** bpftrace's own lines, which the parser also understands. */
export const bpftraceLine: fc.Arbitrary<string> = fc.oneof(
  fc.nat().map((n) => `Lost ${n} events`),
  fc.nat({ max: 999 }).map((n) => `Attaching ${n} probes...`),
);

/** Indices of the fields of `line` of one kind that the parser reads. */
export const readFieldsOf = (line: GrammarLine, kinds: readonly FieldKind[]): number[] =>
  line.kinds.flatMap((k, i) => (kinds.includes(k) && line.read[i] ? [i] : []));
