// The TraceStore contract (../conformance.ts) against PostgreSQL: the same
// cases the SQLite store passes, on a private PostgreSQL 15.
import { traceStoreConformance } from "../conformance.js";
import { traceStoreForEachTest } from "../workspace.js";
import { postgresForFile } from "./harness.js";

const pg = postgresForFile("pg-conformance");
traceStoreConformance(traceStoreForEachTest(pg.harness));
