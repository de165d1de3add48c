import { execFileSync } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { requireTool, TOOLS } from './tools';

/*
 * The console's browser tests drive Debian's chromium through playwright-core (no browser download works here):
 * where it is, and how it is started, in one place.
 */

/** chromium's path, or the one line saying how to install it: looked up first, before anything slow starts. */
export const chromiumPath = (): string => execFileSync('which', [requireTool(TOOLS.chromium)], { encoding: 'utf8' }).trim();

/** chromium headless, quiet (no sandbox, GPU, background traffic or first-run work), with any `extraArgs`. */
export async function launchChromium(executablePath: string, extraArgs: readonly string[] = []): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...extraArgs,
    ],
  });
}
