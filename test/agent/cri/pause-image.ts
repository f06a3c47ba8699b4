// The pod sandbox image for a private containerd: a static `pause` (a few
// lines of C that sleep until signalled), built by static-image.ts.
import { buildStaticImage } from "./static-image.js";

const PAUSE_C = `#include <signal.h>
#include <unistd.h>
static void stop(int sig) { (void)sig; _exit(0); }
int main(void) { signal(SIGTERM, stop); signal(SIGINT, stop); for (;;) pause(); }
`;

/** Build the image tar in `dir` and return its path. `name` is the image reference containerd will know it by. */
export async function buildPauseImage(dir: string, name: string): Promise<string> {
  return buildStaticImage(dir, { name, binary: "pause", source: PAUSE_C });
}
