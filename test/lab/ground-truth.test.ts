import { describe, expect, it } from "vitest";
import { checkExpectations, hasFlag, parseTcpdumpText, reduceCapture, type WirePacket } from "../../src/lab/mod.js";
import { loadFixture } from "./fixtures.js";

const closing = (ps: WirePacket[]): WirePacket[] => ps.filter((p) => hasFlag(p, "FIN") || hasFlag(p, "RST"));

describe("parseTcpdumpText", () => {
  it("parses every flagged line of a real capture with interface, direction, endpoints, flags and time", () => {
    const f = loadFixture("app-abort");
    const text = f.capture["tx-b"] ?? "";
    const lines = text.split("\n").filter((l) => l.includes("Flags ["));
    const ps = parseTcpdumpText("tx-b", text);
    expect(ps).toHaveLength(lines.length);
    const rst = ps.filter((p) => hasFlag(p, "RST"));
    expect(rst).toHaveLength(1);
    expect(rst[0]).toMatchObject({ netns: "tx-b", iface: "lo", src: { ip: "10.88.201.3", port: 8080 }, dst: { ip: "127.0.0.6" } });
    expect(rst[0]?.flags).toEqual(["RST", "ACK"]);
    expect(ps.every((p) => p.tsUs > 1.7e15 && p.seq >= 0)).toBe(true);
  });

  it("skips lines that are not IPv4 TCP segments", () => {
    expect(parseTcpdumpText("x", "listening on any\n1.000001 lo In IP6 ::1.1 > ::1.2: Flags [S], seq 1\n")).toEqual([]);
  });
});

describe("reduceCapture", () => {
  it("keeps each pod-to-pod segment once, in the netns that sent it", () => {
    const f = loadFixture("app-abort");
    const all = Object.entries(f.capture).flatMap(([ns, t]) => parseTcpdumpText(ns, t));
    const wire = reduceCapture(f.capture);
    // Every eth0 segment was captured twice (out in the sender, in at the receiver).
    const eth0 = all.filter((p) => p.iface === "eth0");
    expect(wire.filter((p) => p.iface === "eth0")).toHaveLength(eth0.length / 2);
    expect(wire.every((p) => p.direction === "out")).toBe(true);
    const synFromA = wire.filter((p) => p.iface === "eth0" && hasFlag(p, "SYN") && !hasFlag(p, "ACK"));
    expect(synFromA.map((p) => p.netns)).toEqual(["tx-a"]);
    expect(wire.map((p) => p.tsUs)).toEqual([...wire.map((p) => p.tsUs)].sort((a, b) => a - b));
  });

  it("merges the out and in copies of a loopback segment, but keeps a retransmission", () => {
    const base = { netns: "p", iface: "lo", src: { ip: "127.0.0.6", port: 1 }, dst: { ip: "10.0.0.1", port: 80 }, flags: ["FIN", "ACK"] as WirePacket["flags"], seq: 7 };
    const wire = reduceCapture([
      { ...base, direction: "out", tsUs: 1_000_000 },
      { ...base, direction: "in", tsUs: 1_000_020 },
      { ...base, direction: "out", tsUs: 1_210_000 },
    ]);
    expect(wire.map((p) => [p.direction, p.tsUs])).toEqual([["out", 1_000_000], ["out", 1_210_000]]);
  });

  it("keeps a received segment whose sender was not captured", () => {
    const p: WirePacket = { netns: "b", iface: "eth0", direction: "in", src: { ip: "10.0.0.9", port: 5 }, dst: { ip: "10.0.0.3", port: 80 }, flags: ["RST"], seq: 1, tsUs: 1 };
    expect(reduceCapture([p])).toEqual([p]);
  });
});

describe("scenario expectations against recorded ground truth", () => {
  for (const name of ["ok", "app-abort", "no-listener", "reject"]) {
    it(`${name}: every expected FIN/RST is on the wire and nothing else is`, () => {
      const f = loadFixture(name);
      const check = checkExpectations(reduceCapture(f.capture), f.result.expectations);
      expect(check.missing).toEqual([]);
      expect(check.unexplained).toEqual([]);
    });
  }

  it("notices a missing segment and an unexplained one", () => {
    const f = loadFixture("app-abort");
    const wire = reduceCapture(f.capture).filter((p) => !hasFlag(p, "RST"));
    const withoutRstExpectation = f.result.expectations.filter((e) => e.flag !== "RST");
    expect(checkExpectations(wire, f.result.expectations).missing.map((e) => e.hop)).toEqual(["app-b→sidecar-b"]);
    const full = reduceCapture(f.capture);
    expect(closing(checkExpectations(full, withoutRstExpectation).unexplained)).toHaveLength(1);
  });
});
