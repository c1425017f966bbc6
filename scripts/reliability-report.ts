/**
 * `tsx scripts/reliability-report.ts` (the second half of `npm run test:reliability`): reads the
 * figures the reliability scenarios recorded (`.reliability/figures.jsonl`, one JSON object per line,
 * see test/reliability/support/figures.ts) and rewrites the table between the markers in
 * docs/RELIABILITY.md with the latest figure of every scenario and case.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const START_MARKER = '<!-- figures:start -->';
export const END_MARKER = '<!-- figures:end -->';

/** One recorded figure, as test/reliability/support/figures.ts writes it. */
export interface FigureRecord {
  readonly scenario: number;
  readonly title: string;
  readonly expectation: string;
  readonly result: string;
  /** ISO timestamp of the recording. */
  readonly at: string;
}

/** The ten scenarios of issue 8, for rows of scenarios that have no figure yet. */
export const SCENARIOS: Readonly<Record<number, { name: string; expectation: string }>> = {
  1: {
    name: 'Broker node kill -9 + restart under 256-way confirmed publish load',
    expectation:
      'confirmed-but-missing = 0; broker back → first confirmed publish ≤ 1 s; no unhandled error',
  },
  2: {
    name: 'Connection reset mid-confirm',
    expectation: 'unconfirmed publishes retried or rejected; none reported sent twice or lost',
  },
  3: {
    name: 'Blackhole',
    expectation: 'detected within 2 × heartbeat; waiters fail at their deadline; recovery',
  },
  4: {
    name: '200 ms latency',
    expectation: 'acquire, publish, health check respect their timeouts; in-flight bounded',
  },
  5: {
    name: 'Broker memory alarm',
    expectation: 'publishes back off or fail clearly; consumers keep acking; recovery',
  },
  6: {
    name: 'Kafka broker stopped and restarted under load',
    expectation:
      'no crash; sends fail clearly then recover; consumer resumes from committed offsets',
  },
  7: {
    name: 'SIGTERM to the sample app under HTTP load',
    expectation:
      '201 or clear 503; every confirmed message queued; exit within the drain budget; drain report',
  },
  8: {
    name: 'Soak (1,000,000 acquire/release, 200,000 confirmed publishes with kills)',
    expectation: 'heap growth < 10 % after GC; zero leaked leases',
  },
  9: {
    name: 'Bad input',
    expectation: 'clear typed error for each case; nothing lost or crashed; secrets never shown',
  },
  10: {
    name: 'TLS (amqps)',
    expectation: 'works with the generated certificate; wrong CA fails with a clear error',
  },
};

/** A case not re-measured within this long of its scenario's newest figure is superseded (renamed or removed). */
export const SUPERSEDED_AFTER_MS = 30 * 60 * 1000;

/** Parses figures.jsonl; lines that are not a complete figure are skipped and counted. */
export function parseFigures(jsonl: string): { figures: FigureRecord[]; skipped: number } {
  const figures: FigureRecord[] = [];
  let skipped = 0;
  for (const line of jsonl.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const f = JSON.parse(line) as Partial<FigureRecord>;
      if (
        typeof f.scenario === 'number' &&
        typeof f.title === 'string' &&
        typeof f.expectation === 'string' &&
        typeof f.result === 'string' &&
        typeof f.at === 'string' &&
        !Number.isNaN(Date.parse(f.at))
      ) {
        figures.push(f as FigureRecord);
      } else {
        skipped++;
      }
    } catch {
      skipped++;
    }
  }
  return { figures, skipped };
}

/**
 * The latest figure of every (scenario, title), minus cases superseded by a later run of their
 * scenario, ordered by scenario then title.
 */
export function latestFigures(
  figures: readonly FigureRecord[],
  supersededAfterMs = SUPERSEDED_AFTER_MS,
): FigureRecord[] {
  const latest = new Map<string, FigureRecord>();
  const newestOfScenario = new Map<number, number>();
  for (const f of figures) {
    const key = `${f.scenario}\u0000${f.title}`;
    const at = Date.parse(f.at);
    const seen = latest.get(key);
    if (seen === undefined || Date.parse(seen.at) <= at) latest.set(key, f);
    newestOfScenario.set(f.scenario, Math.max(newestOfScenario.get(f.scenario) ?? at, at));
  }
  return [...latest.values()]
    .filter((f) => Date.parse(f.at) >= newestOfScenario.get(f.scenario)! - supersededAfterMs)
    .sort((a, b) => a.scenario - b.scenario || a.title.localeCompare(b.title));
}

/** Markdown table (columns #, scenario, expectation, latest result, date); one row per scenario without a figure. */
export function buildFiguresTable(
  figures: readonly FigureRecord[],
  scenarios: Readonly<Record<number, { name: string; expectation: string }>> = SCENARIOS,
  supersededAfterMs = SUPERSEDED_AFTER_MS,
): string {
  const rows = latestFigures(figures, supersededAfterMs).map((f) => [
    String(f.scenario),
    f.title,
    f.expectation,
    f.result,
    formatDate(f.at),
  ]);
  const measured = new Set(rows.map((r) => Number(r[0])));
  for (const [n, s] of Object.entries(scenarios)) {
    if (!measured.has(Number(n))) {
      rows.push([n, s.name, s.expectation, 'no passing run recorded yet', '—']);
    }
  }
  rows.sort((a, b) => Number(a[0]) - Number(b[0]));
  const header = ['#', 'scenario', 'expectation', 'latest result', 'date'];
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map((h) => (h === '#' ? '--:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** Replaces what lies between the markers; throws if they are missing or out of order. */
export function replaceBetweenMarkers(doc: string, content: string): string {
  const start = doc.indexOf(START_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (start < 0 || end < 0 || end < start) {
    throw new Error(`markers ${START_MARKER} … ${END_MARKER} not found (in that order)`);
  }
  return `${doc.slice(0, start + START_MARKER.length)}\n${content}\n${doc.slice(end)}`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function formatDate(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function main(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const figuresFile = join(root, '.reliability', 'figures.jsonl');
  const docFile = join(root, 'docs', 'RELIABILITY.md');
  const { figures, skipped } = existsSync(figuresFile)
    ? parseFigures(readFileSync(figuresFile, 'utf8'))
    : { figures: [], skipped: 0 };
  const table = buildFiguresTable(figures);
  writeFileSync(docFile, replaceBetweenMarkers(readFileSync(docFile, 'utf8'), table));
  const shown = latestFigures(figures).length;
  console.log(
    `[reliability-report] ${shown} figure(s) of ${figures.length} recorded written to docs/RELIABILITY.md` +
      (skipped > 0 ? ` (${skipped} malformed line(s) skipped)` : ''),
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main();
}
