/**
 * A real browser for the tests that need one (CORS from a page, the admin page):
 * Debian's chromium (installed by scripts/ensure-tools.sh), driven by
 * playwright-core, which downloads no browser of its own.
 */
import { spawnSync } from 'node:child_process';
import { chromium, type Browser } from 'playwright-core';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The chromium executable, or undefined when none is installed. */
export function chromiumPath(): string | undefined {
  for (const candidate of CANDIDATES) {
    if (candidate && spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return undefined;
}

/** Why a browser test cannot run here, or false when it can (for tap's `skip`). */
export function browserSkipReason(): string | false {
  return chromiumPath() ? false : 'chromium is not installed (scripts/ensure-tools.sh installs it: apt-get install chromium)';
}

/** Headless chromium; `--no-sandbox` because CI runs as root, where chromium's sandbox refuses to start. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('chromium is not installed');
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
}
