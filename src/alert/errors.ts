// Failure kinds of the alerting layer, each a TcptrailError with a stable
// code so callers (the CLI, `tcptrail run`) can react without parsing messages.
import { TcptrailError } from "../errors/mod.js";

export interface AlertRuleOptions extends ErrorOptions {
  /** Where the rules came from: a file path, or "built-in defaults". */
  source: string;
  /** The offending rule's name (or `#<index>` when it has none), if any. */
  rule?: string | undefined;
  /** Dotted path of the offending field inside the rule, e.g. "rate.window". */
  field?: string | undefined;
}

/** A rules file that cannot be read, parsed or validated. */
export class AlertRuleError extends TcptrailError {
  readonly code = "ERR_ALERT_RULE";
  readonly source: string;
  readonly rule: string | undefined;
  readonly field: string | undefined;

  /** The message is prefixed with where it applies: "<source>: rule "<rule>": field <field>: <message>". */
  constructor(message: string, options: AlertRuleOptions) {
    const where = [
      options.source,
      options.rule !== undefined ? `rule "${options.rule}"` : undefined,
      options.field !== undefined ? `field ${options.field}` : undefined,
    ].filter((s) => s !== undefined);
    super(`${where.join(": ")}: ${message}`, options);
    this.source = options.source;
    this.rule = options.rule;
    this.field = options.field;
  }
}

/** A message on an alerts subject that is not a valid protobuf Alert. */
export class AlertDecodeError extends TcptrailError {
  readonly code = "ERR_ALERT_DECODE";
}

export interface WebhookErrorOptions extends ErrorOptions {
  /** HTTP status of the last attempt, when the server answered. */
  status?: number | undefined;
  /** Whether another attempt could succeed (network error, timeout, 5xx, 429). */
  retryable: boolean;
}

/** A webhook delivery that failed for good (after its retries). */
export class WebhookError extends TcptrailError {
  readonly code = "ERR_ALERT_WEBHOOK";
  readonly status: number | undefined;
  readonly retryable: boolean;
  constructor(message: string, options: WebhookErrorOptions) {
    super(message, options);
    this.status = options.status;
    this.retryable = options.retryable;
  }
}

/** The alerts cannot be read from NATS (no stream, no server). */
export class AlertSourceError extends TcptrailError {
  readonly code = "ERR_ALERT_SOURCE";
}

export const isAlertRuleError = (e: unknown): e is AlertRuleError => e instanceof AlertRuleError;
export const isAlertDecodeError = (e: unknown): e is AlertDecodeError => e instanceof AlertDecodeError;
export const isWebhookError = (e: unknown): e is WebhookError => e instanceof WebhookError;
export const isAlertSourceError = (e: unknown): e is AlertSourceError => e instanceof AlertSourceError;
