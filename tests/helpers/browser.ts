/**
 * Headless Chromium for end-to-end tests of pages Flowgate serves. Debian's `chromium` package is
 * installed on first use when missing (CI runs as root on a fresh machine), then driven by
 * playwright-core, which downloads no browser of its own and gives each launch a fresh profile.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const EXECUTABLE = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function ensureChromium(): void {
  if (existsSync(EXECUTABLE)) return;
  const options = { stdio: 'pipe', timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } } as const;
  try {
    console.error('[browser] installing chromium from Debian packages…');
    execFileSync('apt-get', ['update', '-qq'], options);
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], options);
  } catch (error) {
    const output = (error as { stderr?: Buffer }).stderr?.toString() ?? (error as Error).message;
    throw new Error(`Chromium is missing at ${EXECUTABLE} and could not be installed with apt-get (install the Debian package "chromium" or set CHROMIUM_PATH): ${output}`);
  }
}

export async function launchBrowser(): Promise<Browser> {
  ensureChromium();
  return chromium.launch({
    executablePath: EXECUTABLE,
    // The machine has no route out: without these flags Chromium keeps trying to reach Google's hosts.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
