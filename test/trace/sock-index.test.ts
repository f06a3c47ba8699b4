// The (node, sock) index against a Map model: random inserts, replacements and
// deletions with colliding and non-hex addresses must always agree.
import { describe, expect, it } from "vitest";
import { SockIndex } from "../../src/trace/sock-index.js";
import { SocketTable } from "../../src/trace/socket-table.js";

describe("SockIndex", () => {
  it("agrees with a Map through 20k random operations, and prints addresses back as given", () => {
    const t = new SocketTable(16);
    const idx = new SockIndex(t);
    const model = new Map<string, number>();
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    // Aligned kernel-like addresses (many share low bits), short ones, and junk.
    const addr = (): string => {
      const k = rnd(600);
      if (k < 500) return `ffff8881${(k * 0x40).toString(16).padStart(8, "0")}`;
      if (k < 560) return (k * 4096).toString(16);
      return ["x", "FFFF888100000040", "ffff88810000004000", "s-" + k][k % 4]!;
    };
    for (let op = 0; op < 20_000; op++) {
      const node = rnd(3);
      const sock = addr();
      const key = `${node}|${sock}`;
      const cur = idx.get(node, sock);
      expect(cur).toBe(model.get(key) ?? -1);
      if (rnd(3) > 0) {
        if (cur !== -1) {
          idx.delete(cur);
          t.free(cur);
        }
        const s = t.alloc();
        t.node[s] = node;
        t.flags[s] = 1;
        idx.set(node, sock, s);
        model.set(key, s);
        expect(idx.name(s)).toBe(sock);
      } else if (cur !== -1) {
        idx.delete(cur);
        idx.forget(cur);
        t.free(cur);
        model.delete(key);
      }
    }
    for (const [key, s] of model) {
      const [node, sock] = key.split("|") as [string, string];
      expect(idx.get(Number(node), sock)).toBe(s);
    }
  });
});
