// Text that came from the kernel or the network (a process's comm, a pod name,
// a gap reason, anything stored or received) is untrusted: a process can put
// ESC sequences in its comm, a peer can choose what it is called. Printed raw
// to a terminal they clear the screen, move the cursor, rewrite earlier lines
// or reorder text (bidi overrides). Every human output goes through
// escapeControl; JSON output does not need it (JSON.stringify escapes C0
// itself, and scripts must get the exact bytes).

/** C0 (incl. ESC, newline), DEL, C1, and the bidi embedding/override/isolate controls. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const hex = (c: string): string => {
  const n = c.codePointAt(0)!;
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, "0")}` : `\\u${n.toString(16).padStart(4, "0")}`;
};

/** "\x1b[2J" shown as the visible text `\x1b[2J`; a newline as `\x0a`, so one value stays on one line. */
export function escapeControl(s: string): string {
  return s.replace(UNSAFE, hex);
}

/**
 * A copy of a JSON-shaped value (trace, event, timeline) with every string
 * escaped: renderers escape their input once, so a field added later is safe
 * without anyone remembering to escape it.
 */
export function escapeStrings<T>(value: T): T {
  if (typeof value === "string") return escapeControl(value) as T;
  if (Array.isArray(value)) return value.map(escapeStrings) as T;
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = escapeStrings(v);
    return out as T;
  }
  return value;
}
