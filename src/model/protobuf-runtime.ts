// Configures the protobufjs runtime before the generated code loads. uint64
// fields (timestamps, sequence numbers, netns inodes) must decode as plain
// numbers: with the `long` package present protobufjs returns Long objects,
// and `a.tsNs < b.tsNs` silently compares objects. Every value we carry fits
// in 2^53 (kernel ns since boot for 104 days, µs since the epoch).
import protobuf from "protobufjs/minimal.js";

protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();

export {};
