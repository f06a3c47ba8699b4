// Colour in the human outputs (compact and table, never JSON): resets red,
// FINs yellow, openings and completed traces green, so a failure stands out
// in a screenful of lines. Whether to colour at all is the CLI's decision
// (--color, src/cli/color.ts); renderers only take a Painter. Paint goes on
// text that is already escaped (src/text/escape.ts), so the only ESC bytes
// in the output are these.

export type Tone = "bad" | "warn" | "good" | "dim";

/** Wraps text in a tone's colour, or returns it as it is. */
export type Painter = (tone: Tone, text: string) => string;

/** No colour: the default of every renderer, and what pipes and NO_COLOR get. */
export const plain: Painter = (_tone, text) => text;

const SGR: Readonly<Record<Tone, string>> = { bad: "31", warn: "33", good: "32", dim: "2" };

/** ANSI SGR colours, reset after each painted text. */
export const ansi: Painter = (tone, text) => (text === "" ? text : `\x1b[${SGR[tone]}m${text}\x1b[0m`);

export const painter = (color: boolean): Painter => (color ? ansi : plain);

// eslint-disable-next-line no-control-regex
const SGR_SEQUENCE = /\x1b\[[0-9;]*m/g;

/** The text without colour codes: what a terminal shows, for column widths. */
export const stripColor = (s: string): string => s.replace(SGR_SEQUENCE, "");

/** The tone of a trace outcome name (COMPLETED, RESET_BY_SERVER, REFUSED, OPEN, ...). */
export function outcomeTone(outcome: string): Tone | undefined {
  const o = outcome.toUpperCase();
  if (o === "COMPLETED") return "good";
  if (o.startsWith("RESET") || o === "REFUSED") return "bad";
  if (o === "OPEN" || o === "UNSPECIFIED" || o === "") return undefined;
  // Timeouts, half-closed and other non-clean ends.
  return "warn";
}

/** Paints an outcome name by its tone. */
export const paintOutcome = (paint: Painter, outcome: string): string => {
  const tone = outcomeTone(outcome);
  return tone ? paint(tone, outcome) : outcome;
};
