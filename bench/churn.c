/*
 * Loopback TCP connection churn for the benchmark: one accept thread, N dial
 * threads, each connection opened, one byte exchanged, closed. Prints the
 * number of connections completed per second. Loopback only.
 *
 *   churn <seconds> <dial-threads>
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static atomic_long done;
static volatile int stop;
static struct sockaddr_in addr;

static void *acceptor(void *arg) {
  int lfd = *(int *)arg;
  char b;
  while (!stop) {
    int c = accept(lfd, NULL, NULL);
    if (c < 0) continue;
    if (read(c, &b, 1) == 1) (void)!write(c, &b, 1);
    close(c);
  }
  return NULL;
}

static void *dialer(void *arg) {
  (void)arg;
  char b = 'x';
  while (!stop) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr *)&addr, sizeof addr) == 0 && write(s, &b, 1) == 1 && read(s, &b, 1) == 1)
      atomic_fetch_add(&done, 1);
    close(s);
  }
  return NULL;
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 3;
  int n = argc > 2 ? atoi(argv[2]) : 2;
  int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) || listen(lfd, 4096)) { perror("listen"); return 1; }
  socklen_t l = sizeof addr;
  getsockname(lfd, (struct sockaddr *)&addr, &l);
  pthread_t a, d[64];
  pthread_create(&a, NULL, acceptor, &lfd);
  for (int i = 0; i < n && i < 64; i++) pthread_create(&d[i], NULL, dialer, NULL);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  usleep((useconds_t)(secs * 1e6));
  stop = 1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double el = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("%.0f\n", (double)atomic_load(&done) / el);
  fflush(stdout);
  _exit(0);
}
