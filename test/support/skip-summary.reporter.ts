import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Lists, at the very end of a run, every skipped test by name with the reason it was skipped, so
 * that nothing skips silently: a missing tool, no root, a broker feature that is unavailable.
 * Reasons come from `ctx.skip(reason)` or from the file's recorded conditions (skip-reasons.ts).
 */
export default class SkipSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const lines: string[] = [];
    for (const module of testModules) {
      const fileReasons = module.meta().skipReasons ?? [];
      const file = relative(process.cwd(), module.moduleId);
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state !== 'skipped') continue;
        const reason =
          result.note ??
          (fileReasons.length > 0
            ? fileReasons.join('; ')
            : test.options.mode === 'todo'
              ? 'marked todo'
              : 'no reason recorded (.skip in the code, or left out by a -t / .only filter)');
        lines.push(`  - [${module.project.name}] ${file} > ${test.fullName}\n      ${reason}`);
      }
    }
    if (lines.length === 0) {
      console.log('\nSkipped tests: none');
      return;
    }
    console.log(`\nSkipped tests (${String(lines.length)}), with the reason:\n${lines.join('\n')}`);
  }
}
