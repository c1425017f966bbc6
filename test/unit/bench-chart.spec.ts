import { describe, expect, it } from 'vitest';

import type { BenchResults } from '../../bench/bench-results.js';
import {
  escapeXml,
  formatValue,
  parseBenchResults,
  renderAll,
  renderBarChart,
} from '../../scripts/bench-chart.js';

const results: BenchResults = {
  schema: 1,
  bench: 'pool',
  title: 'Pool core',
  timestamp: '2026-11-27T10:40:00.000Z',
  node: 'v20.20.2',
  machine: { cpus: 2, cpuModel: 'test cpu', platform: 'linux-x64' },
  settings: { ops: 1000 },
  units: { opsPerSec: 'ops/s', nsPerOp: 'ns/op' },
  rows: [
    { implementation: 'baseline', concurrency: 1, ours: false, metrics: { opsPerSec: 4_000_000 } },
    {
      implementation: 'Pool <ours> & co',
      concurrency: 1,
      ours: true,
      metrics: { opsPerSec: 2_000_000 },
    },
    {
      implementation: 'generic-pool',
      concurrency: 1,
      ours: false,
      metrics: { opsPerSec: 500_000 },
    },
    { implementation: 'baseline', concurrency: 64, ours: false, metrics: { opsPerSec: 3_000_000 } },
    {
      implementation: 'Pool <ours> & co',
      concurrency: 64,
      ours: true,
      metrics: { opsPerSec: 1_500_000 },
    },
    // No opsPerSec: not drawn.
    { implementation: 'tarn', concurrency: 64, ours: false, metrics: { nsPerOp: 1300 } },
  ],
  charts: [{ id: 'pool', title: 'Throughput', metric: 'opsPerSec', higherIsBetter: true }],
};

/** Every element opened is closed, in order (a small XML well-formedness check for our output). */
function assertBalanced(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (closing) expect(stack.pop()).toBe(name);
    else stack.push(name!);
  }
  expect(stack).toEqual([]);
}

describe('bench chart renderer', () => {
  const svg = renderBarChart(results, results.charts[0]!);

  it('draws one bar per row that has the metric, grouped by concurrency', () => {
    expect(svg.match(/<rect class="bar"/g)).toHaveLength(5);
    expect(svg.match(/<text class="group"/g)).toHaveLength(2);
    expect(svg).toContain('concurrency 1');
    expect(svg).toContain('concurrency 64');
    expect(svg).not.toContain('tarn');
  });

  it('labels every bar with its implementation and its figure, escaping XML', () => {
    expect(svg).toContain('>baseline</text>');
    expect(svg).toContain('>Pool &lt;ours&gt; &amp; co</text>');
    expect(svg).not.toContain('<ours>');
    expect(svg).toContain('>4,000,000</text>');
    expect(svg).toContain('>500,000</text>');
    expect(svg).toContain('ops/s, higher is better');
    expect(svg).toContain('>settings: ops=1000</text>');
  });

  it('scales bars within a group and highlights this library', () => {
    const widths = [...svg.matchAll(/<rect class="bar"[^>]*width="(\d+)"[^>]*fill="([^"]+)"/g)];
    expect(widths.map((m) => Number(m[1]))).toEqual([370, 185, 46, 370, 185]);
    expect(widths[1]![2]).toBe('#2563eb');
    expect(widths[0]![2]).toBe('#9ca3af');
  });

  it('is a well-formed SVG document', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toMatch(/<title id="title">Throughput<\/title>/);
    assertBalanced(svg);
  });

  it('names files after the chart id and skips charts with nothing to draw', () => {
    const files = renderAll([
      {
        ...results,
        charts: [
          ...results.charts,
          { id: 'empty', title: 'none', metric: 'missing', higherIsBetter: true },
        ],
      },
    ]);
    expect([...files.keys()]).toEqual(['bench-pool.svg']);
  });

  it('rejects a results file of another schema', () => {
    expect(() => parseBenchResults({ ...results, schema: 2 }, 'x.json')).toThrow(
      /x.json: schema 2/,
    );
    expect(() => parseBenchResults({ ...results, rows: [{}] }, 'x.json')).toThrow(/implementation/);
    expect(parseBenchResults(JSON.parse(JSON.stringify(results)), 'x.json').bench).toBe('pool');
  });

  it('formats figures for reading', () => {
    expect(formatValue(11_763_875)).toBe('11,763,875');
    expect(formatValue(12.345)).toBe('12.3');
    expect(formatValue(1.234)).toBe('1.23');
    expect(escapeXml(`a"b'c`)).toBe('a&quot;b&apos;c');
  });
});
