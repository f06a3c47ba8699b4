// One grammar for byte sizes across tcptrail (retention limits on the command
// line): parsed and printed here. No dependencies but the error base
// (src/errors), so the thinnest command can load it.
export { InvalidSizeError, isInvalidSizeError, type InvalidSizeOptions } from "./errors.js";
export { SIZE_SYNTAX, formatSize, parseSizeBytes, sizeBytes } from "./size.js";
