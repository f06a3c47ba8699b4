// The TraceStore contract (./conformance.ts) against the SQLite store.
import { traceStoreConformance } from "./conformance.js";
import { storeForEachTest } from "./workspace.js";

traceStoreConformance(storeForEachTest("store-conformance"));
