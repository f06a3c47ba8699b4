import { defineConfig } from "vitest/config";

// Integration and end-to-end tests share the kernel, iptables and named
// network namespaces: run test files one at a time so they cannot trip over
// each other, and give the real components (bpftrace attach, nats-server
// start, HAProxy) time to come up.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ["default"],
  },
});
