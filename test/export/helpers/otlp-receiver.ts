// An OTLP/HTTP receiver for tests: a node http server on 127.0.0.1 that takes
// POST /v1/traces, decodes the body with the official opentelemetry-proto
// definitions (test/fixtures/opentelemetry-proto, loaded by protobufjs at run
// time: independent of the exporter's own serializer) and keeps every span.
// It can answer with an error status, or be closed, to play a failing backend.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import protobuf from "protobufjs";

const PROTO_DIR = new URL("../../fixtures/opentelemetry-proto/", import.meta.url).pathname;

function loadRequestType(): protobuf.Type {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  root.loadSync("opentelemetry/proto/collector/trace/v1/trace_service.proto", { keepCase: true });
  return root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest");
}

export type AttributeValue = string | number | boolean | null;

export interface ReceivedEvent {
  name: string;
  timeUs: number;
  attributes: Record<string, AttributeValue>;
}

export interface ReceivedLink {
  traceId: string;
  spanId: string;
  attributes: Record<string, AttributeValue>;
}

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind numbers: 2 SERVER, 3 CLIENT. */
  kind: number;
  startUs: number;
  endUs: number;
  attributes: Record<string, AttributeValue>;
  events: ReceivedEvent[];
  links: ReceivedLink[];
  /** OTLP's StatusCode numbers: 0 UNSET, 1 OK, 2 ERROR. */
  status: { code: number; message: string };
  resource: Record<string, AttributeValue>;
  scope: string;
}

export const OTLP_KIND = { SERVER: 2, CLIENT: 3 } as const;
export const OTLP_STATUS = { UNSET: 0, OK: 1, ERROR: 2 } as const;

interface KeyValue {
  key: string;
  value?: { string_value?: string; int_value?: number | string; bool_value?: boolean; double_value?: number };
}

function attributes(kvs: KeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const kv of kvs ?? []) {
    const v = kv.value ?? {};
    out[kv.key] = v.string_value ?? (v.int_value !== undefined ? Number(v.int_value) : undefined) ?? v.bool_value ?? v.double_value ?? null;
  }
  return out;
}

const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString("hex");
// fixed64 ns since the epoch pass 2^53; the model's protobufjs set-up decodes
// 64-bit fields as plain numbers (no Long), off by < 256 ns here: the µs,
// which is all tcptrail's times carry, comes out exact after rounding.
const us = (ns: number | string | undefined): number => Math.round(Number(ns ?? 0) / 1000);

export interface OtlpReceiver {
  /** The base endpoint, as OTEL_EXPORTER_OTLP_ENDPOINT would name it. */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Every POST, with its headers and the status it was answered with. */
  requests: { path: string; headers: IncomingHttpHeaders; status: number }[];
  /** Answer every request with this status from now on (200: accept). */
  respondWith(status: number): void;
  close(): Promise<void>;
}

/** Start a receiver on a free port of 127.0.0.1 (or the given one, to come back where a closed one was). */
export async function startOtlpReceiver(port = 0): Promise<OtlpReceiver> {
  const Request = loadRequestType();
  const spans: ReceivedSpan[] = [];
  const requests: OtlpReceiver["requests"] = [];
  let status = 200;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests.push({ path: req.url ?? "", headers: req.headers, status });
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      if (status !== 200) {
        res.writeHead(status).end();
        return;
      }
      const msg = Request.toObject(Request.decode(Buffer.concat(chunks)), { longs: String, enums: Number, defaults: true }) as {
        resource_spans: {
          resource?: { attributes?: KeyValue[] };
          scope_spans: { scope?: { name?: string }; spans: Record<string, never>[] }[];
        }[];
      };
      for (const rs of msg.resource_spans) {
        const resource = attributes(rs.resource?.attributes);
        for (const ss of rs.scope_spans) {
          for (const s of ss.spans as unknown as Record<string, unknown>[]) {
            spans.push({
              traceId: hex(s.trace_id as Uint8Array),
              spanId: hex(s.span_id as Uint8Array),
              parentSpanId: hex(s.parent_span_id as Uint8Array),
              name: s.name as string,
              kind: s.kind as number,
              startUs: us(s.start_time_unix_nano as string),
              endUs: us(s.end_time_unix_nano as string),
              attributes: attributes(s.attributes as KeyValue[]),
              events: ((s.events as Record<string, unknown>[]) ?? []).map((e) => ({
                name: e.name as string,
                timeUs: us(e.time_unix_nano as string),
                attributes: attributes(e.attributes as KeyValue[]),
              })),
              links: ((s.links as Record<string, unknown>[]) ?? []).map((l) => ({
                traceId: hex(l.trace_id as Uint8Array),
                spanId: hex(l.span_id as Uint8Array),
                attributes: attributes(l.attributes as KeyValue[]),
              })),
              status: { code: (s.status as { code?: number })?.code ?? 0, message: (s.status as { message?: string })?.message ?? "" },
              resource,
              scope: ss.scope?.name ?? "",
            });
          }
        }
      }
      // An empty ExportTraceServiceResponse: full success.
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    spans,
    requests,
    respondWith: (s) => void (status = s),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
