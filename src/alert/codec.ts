// Alerts on the wire are protobuf `tcptrail.v1.Alert`. Decoding is defensive:
// anything can be published on a subject, and protobuf happily "decodes" many
// random byte strings, so a decoded alert must also look like one.
import { Severity, v1, type Alert } from "../model/mod.js";
import { AlertDecodeError } from "./errors.js";

export function encodeAlert(alert: Alert): Uint8Array {
  return v1.Alert.encode(alert).finish();
}

/** The alert in `data`; throws AlertDecodeError when it is not a plausible one. */
export function decodeAlert(data: Uint8Array): Alert {
  let alert: Alert;
  try {
    alert = v1.Alert.decode(data);
  } catch (e) {
    throw new AlertDecodeError(`not a protobuf Alert: ${(e as Error).message}`, { cause: e });
  }
  if (alert.alertId === "" || alert.rule === "") {
    throw new AlertDecodeError(`not an alert: alert_id and rule are required`);
  }
  if (!(alert.severity in SEVERITY_NAMES) || alert.severity === Severity.SEVERITY_UNSPECIFIED) {
    throw new AlertDecodeError(`not an alert: unknown severity ${alert.severity}`);
  }
  return alert;
}

const SEVERITY_NAMES: Record<number, true> = {
  [Severity.SEVERITY_INFO]: true,
  [Severity.SEVERITY_WARNING]: true,
  [Severity.SEVERITY_CRITICAL]: true,
};
