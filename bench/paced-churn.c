/*
 * Loopback TCP connection churn that can be paced to an offered rate, for the
 * capacity sweep. Each connection: connect, one request byte, one reply byte,
 * then the SERVER closes first: every other connection with an RST (SO_LINGER
 * 0), the rest with a FIN that the client answers. Server-first matters: a
 * client that closes first leaves its ephemeral port in TIME_WAIT, and with
 * ~28k ports in the default range a run caps near 28k conns/s whatever the
 * tracer does. The server's TIME_WAIT sockets name the listening port, so they
 * never block a client's next connect.
 *
 *   paced-churn <rate> <seconds> [dialers] [acceptors]
 *
 * rate 0 runs at full speed. Paced: connection k is due at start + k/rate
 * (one schedule shared by every dialer thread, so the offered load does not
 * depend on how many threads there are); a dialer that falls behind starts
 * its next connection at once, and nothing is started after the run's end,
 * so a slowed system shows up as achieved < offered.
 *
 * Prints one JSON object on stdout: what was offered and what was achieved,
 * with how each connection ended as the client saw it (aborted: the server's
 * RST; graceful: the server's FIN before the client closed; failed: anything
 * else), the completions of each whole second, and the churn's own CPU
 * seconds (cpuSeconds).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define MAX_SECONDS 3600

/* The request byte tells the server how to close this connection. */
#define CLOSE_WITH_RST 'R'
#define CLOSE_WITH_FIN 'F'

static struct sockaddr_in addr;
static double rate;
static struct timespec start;
static double run_seconds;
static atomic_long next_conn;
static atomic_long completed, aborted_conns, graceful_conns, failed_conns;
static atomic_int stop_full_speed;

static double since_start(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
}

static struct timespec at(double offset) {
  struct timespec t = start;
  long long ns = (long long)(offset * 1e9) + t.tv_nsec;
  t.tv_sec += ns / 1000000000LL;
  t.tv_nsec = ns % 1000000000LL;
  return t;
}

static void *acceptor(void *arg) {
  int lfd = *(int *)arg;
  for (;;) {
    int c = accept(lfd, NULL, NULL);
    if (c < 0) continue;
    char req;
    if (read(c, &req, 1) == 1) {
      (void)!write(c, &req, 1);
      if (req == CLOSE_WITH_RST) {
        struct linger lg = {1, 0};
        setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
      }
    }
    close(c);
  }
  return NULL;
}

/* One connection; how it ended, as the client saw it. */
static void one_connection(long k) {
  char req = (k & 1) ? CLOSE_WITH_RST : CLOSE_WITH_FIN, b;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int ok = s >= 0 && connect(s, (struct sockaddr *)&addr, sizeof addr) == 0 && write(s, &req, 1) == 1 && read(s, &b, 1) == 1;
  if (ok) {
    /* Wait for the server's close before closing: 0 is its FIN, ECONNRESET its RST. */
    ssize_t r = read(s, &b, 1);
    if (r == 0 && req == CLOSE_WITH_FIN) atomic_fetch_add(&graceful_conns, 1);
    else if (r < 0 && errno == ECONNRESET && req == CLOSE_WITH_RST) atomic_fetch_add(&aborted_conns, 1);
    else ok = 0;
  }
  if (ok) atomic_fetch_add(&completed, 1);
  else atomic_fetch_add(&failed_conns, 1);
  if (s >= 0) close(s);
}

static void *dialer(void *arg) {
  (void)arg;
  for (;;) {
    long k = atomic_fetch_add(&next_conn, 1);
    if (rate > 0) {
      double due = k / rate;
      if (due >= run_seconds || since_start() >= run_seconds) break;
      struct timespec t = at(due);
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR) {}
    } else if (atomic_load(&stop_full_speed)) {
      break;
    }
    one_connection(k);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s <rate, 0 = full speed> <seconds> [dialers] [acceptors]\n", argv[0]);
    return 2;
  }
  rate = atof(argv[1]);
  run_seconds = atof(argv[2]);
  int dialers = argc > 3 ? atoi(argv[3]) : 4;
  int acceptors = argc > 4 ? atoi(argv[4]) : 2;
  if (rate < 0 || run_seconds <= 0 || run_seconds > MAX_SECONDS || dialers < 1 || dialers > MAX_THREADS || acceptors < 1 || acceptors > MAX_THREADS) {
    fprintf(stderr, "bad arguments: rate >= 0, 0 < seconds <= %d, 1..%d dialers and acceptors\n", MAX_SECONDS, MAX_THREADS);
    return 2;
  }
  /* Sleeps end when due, not up to 50 us later (the default slack), which matters at 40k conns/s. */
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

  int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) || listen(lfd, 4096)) {
    perror("listen");
    return 1;
  }
  socklen_t l = sizeof addr;
  getsockname(lfd, (struct sockaddr *)&addr, &l);

  pthread_t a[MAX_THREADS], d[MAX_THREADS];
  for (int i = 0; i < acceptors; i++) pthread_create(&a[i], NULL, acceptor, &lfd);
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int i = 0; i < dialers; i++) pthread_create(&d[i], NULL, dialer, NULL);

  /* Completions per whole second, sampled on the schedule's own clock. */
  long per_second[MAX_SECONDS];
  int seconds_seen = 0;
  long last = 0;
  while (seconds_seen < (int)run_seconds) {
    struct timespec t = at(seconds_seen + 1);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR) {}
    long now = atomic_load(&completed);
    per_second[seconds_seen++] = now - last;
    last = now;
  }
  struct timespec t = at(run_seconds);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR) {}
  atomic_store(&stop_full_speed, 1);
  /* Connections in flight at the end finish and count: elapsed runs until the last one did. */
  for (int i = 0; i < dialers; i++) pthread_join(d[i], NULL);
  double elapsed = since_start();

  long done = atomic_load(&completed);
  /* The churn's own CPU, all threads, user + system: where a tracer's kernel-side
   * work shows up (tracepoint programs run in the context that hit them). */
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  printf("{\"offered\":%.0f,\"seconds\":%g,\"dialers\":%d,\"acceptors\":%d,\"elapsed\":%.6f,\"completed\":%ld,"
         "\"aborted\":%ld,\"graceful\":%ld,\"failed\":%ld,\"achieved\":%.1f,\"cpuSeconds\":%.3f,\"perSecond\":[",
         rate, run_seconds, dialers, acceptors, elapsed, done, atomic_load(&aborted_conns), atomic_load(&graceful_conns),
         atomic_load(&failed_conns), done / elapsed, cpu);
  for (int i = 0; i < seconds_seen; i++) printf("%s%ld", i ? "," : "", per_second[i]);
  printf("]}\n");
  fflush(stdout);
  /* The acceptors sit in accept(): leave without joining them. */
  _exit(0);
}
