// One error base for the whole code base (the nats.js idea, core/src/errors.ts):
// every error tcptrail throws on purpose is a TcptrailError, built as
// `(message, options?)` like the standard Error, and carries a stable `code`
// that callers (the CLI's exit status, the API's 4xx/5xx, the consumer's
// back-off) branch on instead of parsing messages. Each module defines its
// own failure kinds as subclasses in its errors.ts, with an `isXxxError` guard.
export { TcptrailError, isTcptrailError } from "./tcptrail-error.js";
export { InvalidArgumentError, isInvalidArgumentError, type InvalidArgumentOptions } from "./invalid-argument.js";
