// `npm run bench -- [part...] [--flag value | --flag=value ...]`: the parts
// to run, and flags for the parts that take options (the sweep's rates).

export interface BenchArgs {
  /** Parts named on the command line; empty means all of them. */
  parts: Set<string>;
  flags: Map<string, string>;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const parts = new Set<string>();
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--")) {
      parts.add(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    if (eq > 0) {
      flags.set(arg.slice(2, eq), arg.slice(eq + 1));
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith("--")) throw new Error(`${arg} needs a value`);
    flags.set(arg.slice(2), value);
    i++;
  }
  return { parts, flags };
}
