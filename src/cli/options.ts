// Option parsers and defaults shared by commands. A bad value fails with a
// message that names the option, before anything starts.
import { InvalidArgumentError } from "commander";

export function intOption(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer between ${min} and ${max}, got "${value}"`);
    return n;
  };
}

export const portOption = intOption(0, 65535);
