import { spawnSync } from 'node:child_process';
import { TestRunner } from 'vitest';

/**
 * Why tests were skipped, for the skip summary printed at the end of every run
 * (skip-summary.reporter.ts). A condition such as `describe.skipIf(!toolAvailable('prometheus'))`
 * is evaluated while Vitest collects the file, so the reason is attached to the file's task
 * metadata, which reaches the reporter in the main process. A single test that skips itself at
 * run time says why with `ctx.skip(reason)` instead.
 */
declare module 'vitest' {
  interface TaskMeta {
    skipReasons?: string[];
  }
}

/** Attaches `reason` to the test file being collected (a no-op outside collection). */
export function recordSkipReason(reason: string): void {
  try {
    const collector = TestRunner.getCurrentSuite();
    const file = collector.file ?? collector.suite?.file;
    if (file === undefined) return;
    const reasons = (file.meta.skipReasons ??= []);
    if (!reasons.includes(reason)) reasons.push(reason);
  } catch {
    // Called outside a test file's collection: there is no file to attach the reason to.
  }
}

const HOW_TO_INSTALL = 'npm test installs it as root (scripts/setup.sh)';

/**
 * True when `command ...args` runs and exits 0; otherwise records why the tests that need it are
 * skipped, e.g. `describe.skipIf(!toolAvailable('prometheus'))`.
 */
export function toolAvailable(command: string, args: readonly string[] = ['--version']): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore', timeout: 30_000 });
  if (result.status === 0) return true;
  const why = result.error
    ? (result.error as NodeJS.ErrnoException).code
    : `exit ${String(result.status)}`;
  recordSkipReason(`\`${command}\` is not available (${String(why)}); ${HOW_TO_INSTALL}`);
  return false;
}

/** True when running as root on Linux; otherwise records `why` (what needs root) as the reason. */
export function runningAsRoot(why: string): boolean {
  if (process.platform === 'linux' && process.getuid?.() === 0) return true;
  recordSkipReason(`not running as root on Linux: ${why}`);
  return false;
}
