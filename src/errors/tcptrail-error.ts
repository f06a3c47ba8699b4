// The base of every error tcptrail throws on purpose.

export abstract class TcptrailError extends Error {
  /**
   * Stable machine-readable kind, "ERR_<AREA>_<KIND>" (e.g. ERR_STORE_CLOSED).
   * Part of the public surface: changing one is a breaking change.
   */
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    // The subclass's own name, so logs and stack traces say which kind it is
    // without every subclass repeating `this.name = "..."`.
    this.name = new.target.name;
  }
}

/** Whether `e` is any error tcptrail raised on purpose (as opposed to a bug or a library's error). */
export const isTcptrailError = (e: unknown): e is TcptrailError => e instanceof TcptrailError;
