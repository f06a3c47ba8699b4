// The query commands' one rule about API failures: a 400 means the command
// line asked for something meaningless (--port 70000, --outcome bogus), which
// is a usage error (exit 2) like any other bad flag value, even though only
// the API could tell. Everything else (unreachable, 5xx) stays a failure.
import { UsageError } from "./errors.js";

export async function queryApi<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    // Already loaded by the caller; imported here so this file stays light.
    const { isApiResponseError } = await import("../query/mod.js");
    if (isApiResponseError(e) && e.status === 400) throw new UsageError(e.message, { cause: e });
    throw e;
  }
}
