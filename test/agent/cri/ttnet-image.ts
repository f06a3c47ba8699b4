// The test containers' TCP peer for a private containerd: one static binary,
// `ttnet NAME listen PORT` or `ttnet NAME dial IP PORT MS`, whose first
// argument becomes its comm so that events tell the containers' processes
// apart. Built by static-image.ts.
import { buildStaticImage } from "./static-image.js";

const TTNET_C = `
/* ttnet: the test containers' TCP peer. argv[1] names the process (its comm,
 * so events tell the processes apart); "listen PORT" echoes a short answer to
 * each connection; "dial IP PORT MS" connects, sends, reads and closes again
 * every MS milliseconds until killed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
static void stop(int sig) { (void)sig; _exit(0); }
int main(int argc, char **argv) {
  signal(SIGTERM, stop);
  signal(SIGINT, stop);
  if (argc < 3) return 2;
  prctl(PR_SET_NAME, argv[1], 0, 0, 0);
  char buf[64];
  if (strcmp(argv[2], "listen") == 0 && argc == 4) {
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3]))};
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 64) != 0) return 1;
    for (;;) {
      int c = accept(s, 0, 0);
      if (c < 0) continue;
      (void)read(c, buf, sizeof buf);
      (void)write(c, "pong", 4);
      close(c);
    }
  }
  if (strcmp(argv[2], "dial") == 0 && argc == 6) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[4]))};
    if (inet_pton(AF_INET, argv[3], &a.sin_addr) != 1) return 2;
    struct timespec every = {.tv_sec = atoi(argv[5]) / 1000, .tv_nsec = (atoi(argv[5]) % 1000) * 1000000L};
    for (;;) {
      int c = socket(AF_INET, SOCK_STREAM, 0);
      if (connect(c, (struct sockaddr *)&a, sizeof a) == 0) {
        (void)write(c, "ping", 4);
        (void)read(c, buf, sizeof buf);
      }
      close(c);
      nanosleep(&every, 0);
    }
  }
  return 2;
}
`;

/** Build the image tar in `dir` and return its path. */
export async function buildTtnetImage(dir: string, name: string): Promise<string> {
  return buildStaticImage(dir, { name, binary: "ttnet", source: TTNET_C });
}
