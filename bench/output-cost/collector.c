/*
 * The output-cost experiment's user side (bench/output-cost.ts): loads
 * collector.bpf.o, attaches its tracepoints, and every PERIOD_US drains the
 * ring buffer to stdout in 256 KiB writes, as raw records ("bin") or as text
 * lines formatted in C ("text", the fields state-printf.bt prints).
 *
 *   output-cost-collector <bpf object> bin|text [period_us]
 *
 * stderr: "attached record=<bytes>" once the probes are live; at SIGINT or
 * SIGTERM, a last drain and "records <n> lost <n>".
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct record {
  uint64_t ts, sk;
  uint32_t pid, tid;
  uint8_t kind, oldstate, newstate, family;
  uint16_t sport, dport;
  uint8_t saddr[16], daddr[16];
  uint32_t reason;
};

static char out[1 << 18];
static size_t used;
static int as_text;
static unsigned long long records;
static volatile sig_atomic_t stopping;

static void flush(void) {
  for (size_t done = 0; done < used;) {
    ssize_t w = write(1, out + done, used - done);
    if (w <= 0) exit(1); /* the reader went away */
    done += (size_t)w;
  }
  used = 0;
}

static int family_of(const struct record *r) {
  /* A reset's addresses are sockaddrs: their family is the first field. */
  uint16_t f = r->kind == 'R' ? (uint16_t)(r->saddr[0] | r->saddr[1] << 8) : r->family;
  return f == 10 ? AF_INET6 : AF_INET;
}

static int on_record(void *ctx, void *data, size_t len) {
  (void)ctx;
  (void)len;
  const struct record *r = data;
  records++;
  if (used + 256 > sizeof out) flush();
  if (!as_text) {
    memcpy(out + used, r, sizeof *r);
    used += sizeof *r;
    return 0;
  }
  char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
  int af = family_of(r);
  const uint8_t *sa = r->kind == 'R' ? r->saddr + (af == AF_INET ? 4 : 8) : r->saddr;
  const uint8_t *da = r->kind == 'R' ? r->daddr + (af == AF_INET ? 4 : 8) : r->daddr;
  inet_ntop(af, sa, s, sizeof s);
  inet_ntop(af, da, d, sizeof d);
  used += (size_t)snprintf(out + used, 256, "%c %llu %llx %u %u %u %u %s %u %s %u %u\n", r->kind, (unsigned long long)r->ts,
                           (unsigned long long)r->sk, r->pid, r->tid, r->oldstate, r->newstate, s, r->sport, d, r->dport, r->reason);
  return 0;
}

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static unsigned long long lost_records(struct bpf_object *obj) {
  int fd = bpf_object__find_map_fd_by_name(obj, "lost");
  int cpus = libbpf_num_possible_cpus();
  if (fd < 0 || cpus <= 0) return 0;
  uint64_t per_cpu[cpus];
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(fd, &zero, per_cpu)) return 0;
  unsigned long long n = 0;
  for (int i = 0; i < cpus; i++) n += per_cpu[i];
  return n;
}

int main(int argc, char **argv) {
  if (argc < 3 || (strcmp(argv[2], "bin") && strcmp(argv[2], "text"))) {
    fprintf(stderr, "usage: %s <bpf object> bin|text [period_us]\n", argv[0]);
    return 2;
  }
  as_text = !strcmp(argv[2], "text");
  long period_us = argc > 3 ? atol(argv[3]) : 5000;
  struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
  if (!obj || bpf_object__load(obj)) {
    fprintf(stderr, "cannot load %s\n", argv[1]);
    return 1;
  }
  struct bpf_program *prog;
  bpf_object__for_each_program(prog, obj) {
    if (!bpf_program__attach(prog)) {
      fprintf(stderr, "cannot attach %s\n", bpf_program__name(prog));
      return 1;
    }
  }
  struct ring_buffer *rb = ring_buffer__new(bpf_object__find_map_fd_by_name(obj, "records"), on_record, NULL, NULL);
  if (!rb) {
    fprintf(stderr, "cannot open the ring buffer\n");
    return 1;
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  fprintf(stderr, "attached record=%zu\n", sizeof(struct record));
  while (!stopping) {
    usleep((useconds_t)period_us);
    ring_buffer__consume(rb);
    if (used) flush();
  }
  ring_buffer__consume(rb);
  flush();
  fprintf(stderr, "records %llu lost %llu\n", records, lost_records(obj));
  return 0;
}
