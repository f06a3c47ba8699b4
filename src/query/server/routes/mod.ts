export { healthRoutes } from "./health.js";
export { streamRoutes } from "./stream.js";
export { timelineRoutes } from "./timeline.js";
export { tracesRoutes } from "./traces.js";
export { WEB_CONTENT_SECURITY_POLICY, loadWebAssets, webRoutes, type WebAssets } from "./web.js";
export type { RouteDeps, StoreWriteHealth } from "./deps.js";
