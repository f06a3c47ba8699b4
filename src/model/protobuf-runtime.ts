// Configures the protobufjs runtime before the generated code loads. uint64
// fields (timestamps, sequence numbers, netns inodes) must decode as plain
// numbers: with the `long` package present protobufjs returns Long objects,
// and `a < b` silently compares objects. Every uint64 we carry as a number
// fits in 2^53 (µs since the epoch, sequence numbers, inodes); kernel ns since
// boot do not after 104 days of uptime, so messages carry them as a base in
// seconds plus small offsets (kernel-time.ts, event-wire.ts).
import protobuf from "protobufjs/minimal.js";

protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();

export {};
