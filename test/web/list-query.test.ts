import { describe, expect, it } from "vitest";
import { Outcome, outcomeName } from "../../src/model/mod.js";
import { OUTCOME_NAMES, acceptsLive, listParams, parseAddressSearch } from "../../src/web/list-query.js";

describe("parseAddressSearch", () => {
  it.each([
    ["", {}],
    ["  8080 ", { port: 8080 }],
    ["10.88.100.3", { ip: "10.88.100.3" }],
    ["10.88.100.3:9091", { ip: "10.88.100.3", port: 9091 }],
    ["::1", { ip: "::1" }],
    ["fd00::3", { ip: "fd00::3" }],
    ["[fd00::3]:443", { ip: "fd00::3", port: 443 }],
    ["[::1]", { ip: "::1" }],
  ])("%j → %j", (text, want) => expect(parseAddressSearch(text)).toEqual(want));

  it.each(["tt-b", "70000", "0", "10.88.100.3:0", "10.88.100.300", "[::1]:99999", "[tt]:80", "1.2.3:80"])("refuses %j", (text) =>
    expect(parseAddressSearch(text)).toBeUndefined(),
  );
});

describe("listParams", () => {
  it("uses the API's parameter names, leaving out empty filters", () => {
    const q = listParams({ pod: " tt-b ", outcome: "RESET_BY_SERVER,REFUSED", since: "15m", until: "", search: "10.88.100.3:8080" });
    expect(q.toString()).toBe("pod=tt-b&outcome=RESET_BY_SERVER%2CREFUSED&since=15m&ip=10.88.100.3&port=8080");
  });

  it("has no time window for the live stream", () => {
    expect(listParams({ since: "1h", until: "5m", pod: "a" }, true).toString()).toBe("pod=a");
  });

  it("throws on a search that is not an address or port", () => {
    expect(() => listParams({ search: "tt-b" })).toThrow(/search: "tt-b"/);
  });

  it("takes live traces only into a list that reaches now", () => {
    expect(acceptsLive({ since: "1h" })).toBe(true);
    expect(acceptsLive({ until: "5m" })).toBe(false);
  });
});

describe("OUTCOME_NAMES", () => {
  it("are the model's outcomes, as the API names them", () => {
    const model = Object.values(Outcome)
      .filter((v): v is number => typeof v === "number" && v !== 0)
      .map(outcomeName);
    expect([...OUTCOME_NAMES].sort()).toEqual(model.sort());
  });
});
