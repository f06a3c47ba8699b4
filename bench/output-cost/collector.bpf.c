// SPDX-License-Identifier: GPL-2.0
/*
 * The output-cost experiment's kernel side (bench/output-cost.ts): the same
 * three tracepoints as state-printf.bt, each hit written as one fixed-size
 * binary record into a BPF ring buffer. Only what the output path costs
 * differs between the two: bpftrace formats every record as text in user
 * space; here the reader copies records (or formats them in C).
 *
 * No wakeup per record (BPF_RB_NO_WAKEUP): the reader drains the buffer on a
 * timer, so a busy node pays one read per period instead of one wakeup per
 * record; a wakeup is forced only when a quarter of the buffer is waiting.
 * Records that find no room are counted in `lost`, never silently dropped.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define RING_BYTES (64 << 20)

struct record {
  __u64 ts;
  __u64 sk;
  __u32 pid, tid;
  __u8 kind, oldstate, newstate, family;
  __u16 sport, dport;
  __u8 saddr[16], daddr[16];
  __u32 reason;
};

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, RING_BYTES);
} records SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} lost SEC(".maps");

static __always_inline struct record *reserve(void) {
  struct record *r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);
  if (!r) {
    __u32 zero = 0;
    __u64 *n = bpf_map_lookup_elem(&lost, &zero);
    if (n) (*n)++;
    return 0;
  }
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  r->ts = bpf_ktime_get_ns();
  r->pid = pid_tgid >> 32;
  r->tid = (__u32)pid_tgid;
  return r;
}

static __always_inline void submit(struct record *r) {
  long flags = bpf_ringbuf_query(&records, BPF_RB_AVAIL_DATA) > RING_BYTES / 4 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
  bpf_ringbuf_submit(r, flags);
}

/* The tracepoint's address fields are read through bpf_probe_read_kernel: the
 * verifier refuses a copy from an offset context pointer. */
static __always_inline void addresses(struct record *r, __u16 family, const void *s4, const void *d4, const void *s6, const void *d6) {
  if (family == 2) {
    bpf_probe_read_kernel(r->saddr, 4, s4);
    bpf_probe_read_kernel(r->daddr, 4, d4);
  } else {
    bpf_probe_read_kernel(r->saddr, 16, s6);
    bpf_probe_read_kernel(r->daddr, 16, d6);
  }
}

SEC("tracepoint/sock/inet_sock_set_state")
int on_state(struct trace_event_raw_inet_sock_set_state *a) {
  if (a->protocol != 6) return 0;
  struct record *r = reserve();
  if (!r) return 0;
  r->kind = 'S';
  r->sk = (__u64)a->skaddr;
  r->oldstate = a->oldstate;
  r->newstate = a->newstate;
  r->family = a->family;
  r->sport = a->sport;
  r->dport = a->dport;
  addresses(r, a->family, a->saddr, a->daddr, a->saddr_v6, a->daddr_v6);
  r->reason = 0;
  submit(r);
  return 0;
}

SEC("tracepoint/tcp/tcp_send_reset")
int on_send_reset(struct trace_event_raw_tcp_send_reset *a) {
  struct record *r = reserve();
  if (!r) return 0;
  r->kind = 'R';
  r->sk = (__u64)a->skaddr;
  r->oldstate = a->state;
  r->newstate = 0;
  r->family = 0;
  r->sport = 0;
  r->dport = 0;
  /* sockaddr_in/in6 as the tracepoint keeps them: the family is their first field. */
  bpf_probe_read_kernel(r->saddr, 16, a->saddr);
  bpf_probe_read_kernel(r->daddr, 16, a->daddr);
  r->reason = a->reason;
  submit(r);
  return 0;
}

SEC("tracepoint/tcp/tcp_receive_reset")
int on_receive_reset(struct trace_event_raw_tcp_event_sk *a) {
  struct record *r = reserve();
  if (!r) return 0;
  r->kind = 'r';
  r->sk = (__u64)a->skaddr;
  r->oldstate = 0;
  r->newstate = 0;
  r->family = a->family;
  r->sport = a->sport;
  r->dport = a->dport;
  addresses(r, a->family, a->saddr, a->daddr, a->saddr_v6, a->daddr_v6);
  r->reason = 0;
  submit(r);
  return 0;
}
