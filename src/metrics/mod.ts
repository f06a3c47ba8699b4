export { createMetrics, type TcptrailMetrics } from "./registry.js";
export { startMetricsServer, type MetricsServer } from "./metrics-server.js";
