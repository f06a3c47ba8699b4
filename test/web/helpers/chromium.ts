// The system chromium (Debian's package, installed by deploy/setup.sh) driven
// headless by puppeteer-core, which downloads no browser. A private
// user-data-dir per launch, removed at close; the browser process is killed by
// its PID even when puppeteer's own close fails or hangs, so a failed test
// leaves no chromium behind.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";

export const DEFAULT_CHROMIUM = "/usr/bin/chromium";
/** How long close() lets chromium exit by itself before killing it. */
export const DEFAULT_CLOSE_GRACE_MS = 3000;

export interface TestBrowser {
  browser: Browser;
  pid: number | undefined;
  close(): Promise<void>;
}

/** The chromium to drive: TCPTRAIL_CHROMIUM, else Debian's. */
export function chromiumPath(): string {
  return process.env.TCPTRAIL_CHROMIUM ?? DEFAULT_CHROMIUM;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export async function launchChromium(): Promise<TestBrowser> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    throw new Error(`no chromium at ${executablePath}: run deploy/setup.sh (it installs Debian's chromium) or set TCPTRAIL_CHROMIUM`);
  }
  const userDataDir = await mkdtemp(join(tmpdir(), "tcptrail-chromium-"));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath,
      // headless is passed as a flag so the mode is the one named here (new
      // headless: the real browser, not the old headless shell).
      headless: false,
      // Root in CI has no user namespace sandbox to drop into.
      args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check", "--hide-scrollbars", "--mute-audio"],
      userDataDir,
      pipe: true,
      timeout: 30_000,
    });
  } catch (err) {
    await rm(userDataDir, { recursive: true, force: true });
    throw err;
  }
  const pid = browser.process()?.pid;
  return {
    browser,
    pid,
    async close() {
      const closed = browser.close().catch(() => undefined);
      await Promise.race([closed, new Promise((r) => setTimeout(r, DEFAULT_CLOSE_GRACE_MS).unref())]);
      if (pid !== undefined && alive(pid)) process.kill(pid, "SIGKILL");
      await rm(userDataDir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
    },
  };
}
