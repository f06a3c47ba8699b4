// Failure kinds of the alerting layer. Each carries a stable `code` so callers
// (the CLI, `tcptrail run`) can react without parsing messages.

/** A rules file that cannot be read, parsed or validated. */
export class AlertRuleError extends Error {
  readonly code = "ERR_ALERT_RULE" as const;
  /** Where the rules came from: a file path, or "built-in defaults". */
  readonly source: string;
  /** The offending rule's name (or `#<index>` when it has none), if any. */
  readonly rule: string | undefined;
  /** Dotted path of the offending field inside the rule, e.g. "rate.window". */
  readonly field: string | undefined;

  constructor(message: string, opts: { source: string; rule?: string; field?: string; cause?: unknown }) {
    const where = [
      opts.source,
      opts.rule !== undefined ? `rule "${opts.rule}"` : undefined,
      opts.field !== undefined ? `field ${opts.field}` : undefined,
    ].filter((s) => s !== undefined);
    super(`${where.join(": ")}: ${message}`, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = "AlertRuleError";
    this.source = opts.source;
    this.rule = opts.rule;
    this.field = opts.field;
  }
}

export function isAlertRuleError(e: unknown): e is AlertRuleError {
  return e instanceof AlertRuleError;
}

/** A message on an alerts subject that is not a valid protobuf Alert. */
export class AlertDecodeError extends Error {
  readonly code = "ERR_ALERT_DECODE" as const;
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = "AlertDecodeError";
  }
}

export function isAlertDecodeError(e: unknown): e is AlertDecodeError {
  return e instanceof AlertDecodeError;
}

/** A webhook delivery that failed for good (after its retries). */
export class WebhookError extends Error {
  readonly code = "ERR_ALERT_WEBHOOK" as const;
  /** HTTP status of the last attempt, when the server answered. */
  readonly status: number | undefined;
  /** Whether another attempt could succeed (network error, timeout, 5xx, 429). */
  readonly retryable: boolean;
  constructor(message: string, opts: { status?: number; retryable: boolean; cause?: unknown }) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = "WebhookError";
    this.status = opts.status;
    this.retryable = opts.retryable;
  }
}

export function isWebhookError(e: unknown): e is WebhookError {
  return e instanceof WebhookError;
}

/** The alerts cannot be read from NATS (no stream, no server). */
export class AlertSourceError extends Error {
  readonly code = "ERR_ALERT_SOURCE" as const;
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = "AlertSourceError";
  }
}

export function isAlertSourceError(e: unknown): e is AlertSourceError {
  return e instanceof AlertSourceError;
}
