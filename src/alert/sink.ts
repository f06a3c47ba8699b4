// Where alerts go once the engine has emitted them. A sink never blocks or
// throws into the engine's caller: it queues or fires and counts failures.
import type { Alert } from "../model/mod.js";

export interface AlertSink {
  /** Hands an alert over; returns at once. */
  send(alert: Alert): void;
  /** Resolves once everything handed over so far has been delivered or given up on. */
  drain(): Promise<void>;
}
