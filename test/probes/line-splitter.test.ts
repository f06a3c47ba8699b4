// bpftrace's stdout arrives as chunks cut anywhere (mid-line, mid-character):
// the splitter must give back exactly the lines, and the parser must read a
// line where it lies in the chunk just as it reads the line on its own.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { LineParser, LineSplitter, type ParsedEvent } from "../../src/probes/mod.js";

const RECORDED = readFileSync(new URL("./fixtures/loopback-basics.txt", import.meta.url), "utf8");

function splitAll(bytes: Buffer, cuts: number[]): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((text, start, end) => lines.push(text.slice(start, end)));
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    splitter.push(bytes.subarray(at, cut));
    at = cut;
  }
  splitter.end();
  return lines;
}

describe("LineSplitter", () => {
  // A comm may be any UTF-8 ("Web Content", "nginx: wörker", an emoji): cut through each of its bytes.
  const text = "A 1 ffff1 7 7 5 nginx: wörker 🚀\nS 2 ffff1 1 4\n\nX 3 ffff1 7 7 5 a b\nlast line without newline";
  const bytes = Buffer.from(text, "utf8");

  test("every single cut point, also inside a multi-byte character, gives the same lines", () => {
    const want = text.split("\n").filter((l) => l.length > 0);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(splitAll(bytes, [cut]).filter((l) => l.length > 0), `cut at byte ${cut}`).toEqual(want);
    }
  });

  test("one byte at a time", () => {
    const cuts = Array.from({ length: bytes.length }, (_, i) => i);
    expect(splitAll(bytes, cuts).filter((l) => l.length > 0)).toEqual(text.split("\n").filter((l) => l.length > 0));
  });

  test("the last line of a stream that ended without a newline is delivered by end(), once", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((t, s, e) => lines.push(t.slice(s, e)));
    splitter.push(Buffer.from("B 1\nO 2"));
    expect(lines).toEqual(["B 1"]);
    splitter.end();
    splitter.end();
    expect(lines).toEqual(["B 1", "O 2"]);
    // and the next stream (bpftrace restarted) starts clean
    splitter.push(Buffer.from("B 3\n"));
    expect(lines).toEqual(["B 1", "O 2", "B 3"]);
  });
});

describe("LineParser.parseRange", () => {
  const collect = () => {
    const events: ParsedEvent[] = [];
    const other: unknown[] = [];
    const parser = new LineParser({
      onEvent: (e) => events.push(e),
      onBegin: (ts) => other.push(["begin", ts]),
      onLost: (n) => other.push(["lost", n]),
      onMalformed: (line, reason) => other.push(["malformed", line, reason]),
    });
    return { events, other, parser };
  };

  test("a recorded run read in 4 KiB chunks parses to exactly what line-by-line parsing gives", () => {
    const extra = "Lost 3 events\ngarbage here\nC 5 ffff1 1 2 -111 4 4 10.0.0.1 80 7 0 0 0 4 0.0.0.0 0 10.0.0.1 0 1 0 Web Content\n";
    const all = RECORDED + extra;
    const byLine = collect();
    for (const l of all.split("\n")) byLine.parser.parse(l);
    const byChunk = collect();
    const splitter = new LineSplitter((t, s, e) => byChunk.parser.parseRange(t, s, e));
    const bytes = Buffer.from(all);
    for (let i = 0; i < bytes.length; i += 4096) splitter.push(bytes.subarray(i, i + 4096));
    splitter.end();
    expect(byLine.events.length).toBeGreaterThan(50);
    expect(byChunk.events).toEqual(byLine.events);
    expect(byChunk.other).toEqual(byLine.other);
    expect(byChunk.other).toContainEqual(["lost", 3]);
    expect(byChunk.other).toContainEqual(["malformed", "garbage here", 'unknown or short line (tag "garbage")']);
    expect(byChunk.events.at(-1)?.process?.comm).toBe("Web Content");
  });

  test("numbers read in place are plain decimals only, exact or malformed", () => {
    const { events, other, parser } = collect();
    // Not plain digits, though integers to Number(): malformed (the probe prints digits only).
    parser.parse("O 602257263783 ffff888105959bc0 7 2 4 10.0.0.1 0x50 10.0.0.2 1e3 4026531833 1337 0 0 0");
    // 16+ digits take the slow path: exact below 2^53, malformed beyond.
    parser.parse("O 602257263783 ffff888105959bc0 7 2 4 10.0.0.1 80 10.0.0.2 1000 4026531833 0000000000000001337 0 0 0");
    parser.parse("O 602257263783 ffff888105959bc0 7 2 4 10.0.0.1 80 10.0.0.2 1000 99999999999999999999 1337 0 0 0");
    parser.parse("C 602257418693 ffff888105959bc0 7520 7521 -0 4 4 10.88.0.3 8080 7 0 0 0 4 0.0.0.0 0 10.88.0.3 0 1 0 curl");
    parser.parse("C 602257418694 ffff888105959bc0 7520 7521 -1.5 4 4 10.88.0.3 8080 7 0 0 0 4 0.0.0.0 0 10.88.0.3 0 1 0 curl");
    parser.parse("O 602257263783 ffff888105959bc0 7 2 4 1.2.3.4.5 1 10.0.0.2 1 1 0 0 0 0");
    expect(events.map((e) => [e.local?.port, e.remote?.port, e.uid, e.ret])).toEqual([
      [80, 1000, 1337, undefined],
      [undefined, undefined, undefined, -0],
    ]);
    expect(other.map((o) => (o as string[])[0])).toEqual(["malformed", "malformed", "malformed", "malformed"]);
  });
});
