/**
 * Draws the benchmark charts of docs/BENCHMARKS.md from real bench output: reads every
 * `bench/results/<bench>.json` (written by the `npm run bench:*` scripts) and writes one
 * hand-written SVG bar chart per chart the file declares to `docs/img/bench-<id>.svg`.
 * No dependency; a bench that was not run has no results file and so no chart.
 *
 * Run: `npx tsx scripts/bench-chart.ts [resultsDir] [outDir]`.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import {
  BENCH_RESULTS_SCHEMA,
  type BenchChartSpec,
  type BenchResults,
  type BenchRow,
} from '../bench/bench-results.js';

const BAR_AREA = 370;
/** Room right of the longest bar for its figure. */
const VALUE_ROOM = 110;
/** Average advance of a 12 px sans-serif glyph, generous: labels must not run off the left edge. */
const CHAR_WIDTH = 7;
const BAR_HEIGHT = 18;
const BAR_GAP = 6;
const GROUP_HEADER = 26;
const GROUP_GAP = 12;
const TOP = 86;
const BOTTOM = 36;
const OURS = '#2563eb';
const OTHERS = '#9ca3af';

/** Text for an SVG text node or attribute. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** 1,234,567 · 12.3 · 0.123: thousands separators, a few significant digits for small values. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: 0,
  });
}

/** Checks a parsed results file enough for drawing; throws with the reason otherwise. */
export function parseBenchResults(value: unknown, source: string): BenchResults {
  const fail = (why: string): never => {
    throw new Error(`${source}: ${why}`);
  };
  if (typeof value !== 'object' || value === null) return fail('not a JSON object');
  const r = value as Partial<BenchResults>;
  if (r.schema !== BENCH_RESULTS_SCHEMA)
    fail(`schema ${String(r.schema)}, expected ${BENCH_RESULTS_SCHEMA}`);
  if (typeof r.bench !== 'string' || typeof r.title !== 'string') fail('bench/title missing');
  if (!Array.isArray(r.rows) || !Array.isArray(r.charts)) fail('rows/charts missing');
  if (typeof r.units !== 'object' || r.units === null) fail('units missing');
  for (const row of r.rows as unknown[]) {
    const rw = row as Partial<BenchRow>;
    if (typeof rw.implementation !== 'string' || typeof rw.concurrency !== 'number')
      fail('a row lacks implementation/concurrency');
    if (typeof rw.metrics !== 'object' || rw.metrics === null) fail('a row lacks metrics');
  }
  return r as BenchResults;
}

interface Group {
  readonly label: string;
  readonly bars: readonly { label: string; value: number; ours: boolean }[];
}

/** The rows a chart draws, grouped by concurrency (in first-seen order) unless `singleGroup`. */
export function chartGroups(results: BenchResults, spec: BenchChartSpec): Group[] {
  const rows = results.rows.filter(
    (row) =>
      (spec.scenario === undefined || row.scenario === spec.scenario) &&
      (spec.implementations === undefined || spec.implementations.includes(row.implementation)) &&
      typeof row.metrics[spec.metric] === 'number',
  );
  const order = spec.implementations;
  const groups = new Map<string, BenchRow[]>();
  for (const row of rows) {
    const key = spec.singleGroup ?? `concurrency ${row.concurrency}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return [...groups].map(([label, members]) => ({
    label,
    bars: [...members]
      .sort((a, b) =>
        order ? order.indexOf(a.implementation) - order.indexOf(b.implementation) : 0,
      )
      .map((row) => ({
        label: row.implementation,
        value: row.metrics[spec.metric] as number,
        ours: row.ours,
      })),
  }));
}

/**
 * One horizontal bar chart: a group per concurrency, one bar per implementation, this library's
 * bars in blue. Each group is scaled to its own largest value (concurrencies differ by orders of
 * magnitude); the figure is printed at the end of every bar.
 */
export function renderBarChart(results: BenchResults, spec: BenchChartSpec): string {
  const groups = chartGroups(results, spec);
  const unit = results.units[spec.metric] ?? spec.metric;
  const longest = Math.max(0, ...groups.flatMap((g) => g.bars.map((b) => b.label.length)));
  const LABEL_WIDTH = Math.max(160, 24 + Math.ceil(longest * CHAR_WIDTH));
  const when = results.timestamp.slice(0, 16).replace('T', ' ');
  const subtitle =
    `${unit}, ${spec.higherIsBetter ? 'higher' : 'lower'} is better · each group scaled to its largest bar · ` +
    `Node ${results.node}, ${results.machine.cpus} CPU(s), ${when} UTC`;
  const settings = settingsLine(results);
  // Wide enough for the bars and for the header lines (16 px title, 12 px text).
  const WIDTH = Math.ceil(
    Math.max(
      640,
      LABEL_WIDTH + BAR_AREA + VALUE_ROOM,
      32 + spec.title.length * 9.5,
      32 + Math.max(subtitle.length, settings.length) * 6.6,
    ),
  );
  const barCount = groups.reduce((n, g) => n + g.bars.length, 0);
  const height =
    TOP + groups.length * (GROUP_HEADER + GROUP_GAP) + barCount * (BAR_HEIGHT + BAR_GAP) + BOTTOM;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="title">`,
    `<title id="title">${escapeXml(spec.title)}</title>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<g font-family="-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12" fill="#111827">`,
    `<text x="16" y="26" font-size="16" font-weight="bold">${escapeXml(spec.title)}</text>`,
    `<text x="16" y="46" fill="#4b5563">${escapeXml(subtitle)}</text>`,
    `<text class="settings" x="16" y="64" fill="#4b5563">${escapeXml(settings)}</text>`,
  ];
  let y = TOP;
  for (const group of groups) {
    const max = Math.max(...group.bars.map((b) => b.value), Number.MIN_VALUE);
    out.push(
      `<text class="group" x="16" y="${y + 16}" font-weight="bold">${escapeXml(group.label)}</text>`,
    );
    y += GROUP_HEADER;
    for (const bar of group.bars) {
      const w = Math.max(1, Math.round((bar.value / max) * BAR_AREA));
      const text = `${formatValue(bar.value)}`;
      out.push(
        `<text class="label" x="${LABEL_WIDTH - 8}" y="${y + 13}" text-anchor="end"${bar.ours ? ' font-weight="bold"' : ''}>${escapeXml(bar.label)}</text>`,
        `<rect class="bar" x="${LABEL_WIDTH}" y="${y}" width="${w}" height="${BAR_HEIGHT}" rx="2" fill="${bar.ours ? OURS : OTHERS}"><title>${escapeXml(`${bar.label}: ${text} ${unit}`)}</title></rect>`,
        `<text class="value" x="${LABEL_WIDTH + w + 6}" y="${y + 13}">${escapeXml(text)}</text>`,
      );
      y += BAR_HEIGHT + BAR_GAP;
    }
    y += GROUP_GAP;
  }
  out.push(
    `<rect x="16" y="${height - 22}" width="10" height="10" fill="${OURS}"/>`,
    `<text x="32" y="${height - 13}" fill="#4b5563">nestjs-mq-pool</text>`,
    `<rect x="140" y="${height - 22}" width="10" height="10" fill="${OTHERS}"/>`,
    `<text x="156" y="${height - 13}" fill="#4b5563">${escapeXml(`reference · data: bench/results/${results.bench}.json`)}</text>`,
    '</g>',
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}

/** The run's knobs, so a chart of a reduced run says so: "settings: messages=2000, rounds=1". */
export function settingsLine(results: BenchResults): string {
  const pairs = Object.entries(results.settings)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}=${String(v)}`);
  const line = `settings: ${pairs.join(', ') || 'defaults'}`;
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

/** Every chart a set of results files declares: file name → SVG. */
export function renderAll(all: readonly BenchResults[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const results of all) {
    for (const spec of results.charts) {
      if (chartGroups(results, spec).length === 0) continue;
      files.set(`bench-${spec.id}.svg`, renderBarChart(results, spec));
    }
  }
  return files;
}

function main(): void {
  const root = fileURLToPath(new URL('../', import.meta.url));
  const resultsDir = process.argv[2] ?? join(root, 'bench', 'results');
  const outDir = process.argv[3] ?? join(root, 'docs', 'img');
  let names: string[];
  try {
    names = readdirSync(resultsDir).filter((n) => n.endsWith('.json'));
  } catch {
    names = [];
  }
  if (names.length === 0) {
    console.error(`no results in ${resultsDir}: run a bench first (npm run bench:pool)`);
    process.exitCode = 1;
    return;
  }
  const all = names.sort().map((name) => {
    const path = join(resultsDir, name);
    return parseBenchResults(JSON.parse(readFileSync(path, 'utf8')) as unknown, path);
  });
  mkdirSync(outDir, { recursive: true });
  for (const [file, svg] of renderAll(all)) {
    writeFileSync(join(outDir, file), svg);
    console.log(`wrote ${join(outDir, file)}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main();
}
