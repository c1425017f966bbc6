import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One measured outcome of a reliability scenario (issue 8), as docs/RELIABILITY.md tabulates it. */
export interface ReliabilityFigure {
  /** The scenario's number in issue 8 (1–10). */
  readonly scenario: number;
  /** Short name of the case, e.g. "kill -9 under 256-way publish load". */
  readonly title: string;
  /** What must hold, e.g. "confirmed-but-missing = 0; back → first confirm ≤ 1 s". */
  readonly expectation: string;
  /** What this run measured, e.g. "0 missing of 18,204 confirmed; 412 ms". */
  readonly result: string;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
/** Figures of the latest run, one JSON object per line; scripts/reliability-report.ts reads them. */
export const FIGURES_FILE = join(ROOT, '.reliability', 'figures.jsonl');

/**
 * Prints the figure and records it for the report. Call it after the scenario's assertions pass,
 * so a recorded figure is always one that met its expectation.
 */
export function recordFigure(figure: ReliabilityFigure): void {
  console.log(`[reliability #${figure.scenario}] ${figure.title}: ${figure.result}`);
  mkdirSync(dirname(FIGURES_FILE), { recursive: true });
  appendFileSync(FIGURES_FILE, `${JSON.stringify({ ...figure, at: new Date().toISOString() })}\n`);
}
