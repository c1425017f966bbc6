import { describe, expect, it } from 'vitest';
import {
  buildFiguresTable,
  END_MARKER,
  type FigureRecord,
  latestFigures,
  parseFigures,
  replaceBetweenMarkers,
  START_MARKER,
} from '../../scripts/reliability-report.js';

const fig = (
  scenario: number,
  title: string,
  result: string,
  at: string,
  expectation = 'holds',
): FigureRecord => ({ scenario, title, expectation, result, at });

const TWO = {
  1: { name: 'Kill', expectation: 'nothing lost' },
  2: { name: 'Reset', expectation: 'no duplicates' },
};

describe('reliability report', () => {
  it('keeps the latest figure per scenario and title, ordered by scenario then title', () => {
    const figures = [
      fig(2, 'b', 'old', '2026-11-27T10:00:00.000Z'),
      fig(1, 'x', 'only', '2026-11-27T10:05:00.000Z'),
      fig(2, 'b', 'new', '2026-11-27T10:10:00.000Z'),
      fig(2, 'a', 'a1', '2026-11-27T10:09:00.000Z'),
    ];
    expect(latestFigures(figures).map((f) => `${f.scenario}/${f.title}=${f.result}`)).toEqual([
      '1/x=only',
      '2/a=a1',
      '2/b=new',
    ]);
  });

  it('drops a case its scenario has not re-measured for longer than the supersede window', () => {
    const figures = [
      fig(1, 'renamed ×5', 'stale', '2026-11-27T08:00:00.000Z'),
      fig(1, 'renamed ×8', 'fresh', '2026-11-27T10:00:00.000Z'),
      fig(2, 'alone', 'old but latest of its scenario', '2026-11-20T10:00:00.000Z'),
    ];
    expect(latestFigures(figures, 30 * 60_000).map((f) => f.result)).toEqual([
      'fresh',
      'old but latest of its scenario',
    ]);
  });

  it('builds the markdown table with escaped cells, UTC dates, and a row for unmeasured scenarios', () => {
    const table = buildFiguresTable(
      [fig(2, 'reset | RST', '0 lost\nof 10', '2026-11-27T10:10:59.000Z', 'lost = 0')],
      TWO,
    );
    expect(table.split('\n')).toEqual([
      '| # | scenario | expectation | latest result | date |',
      '|--:|---|---|---|---|',
      '| 1 | Kill | nothing lost | no passing run recorded yet | — |',
      '| 2 | reset \\| RST | lost = 0 | 0 lost of 10 | 2026-11-27 10:10 UTC |',
    ]);
  });

  it('parses JSON lines, skipping blank and malformed ones', () => {
    const good = JSON.stringify(fig(3, 't', 'r', '2026-11-27T10:00:00.000Z'));
    const { figures, skipped } = parseFigures(
      `${good}\n\nnot json\n{"scenario":"3","title":"t"}\n${JSON.stringify({ ...fig(3, 't', 'r', 'x') })}\n`,
    );
    expect(figures).toHaveLength(1);
    expect(skipped).toBe(3);
  });

  it('replaces only what is between the markers, and refuses a document without them', () => {
    const doc = `# Title\n\n${START_MARKER}\nold table\n${END_MARKER}\n\nAfter.\n`;
    expect(replaceBetweenMarkers(doc, 'NEW')).toBe(
      `# Title\n\n${START_MARKER}\nNEW\n${END_MARKER}\n\nAfter.\n`,
    );
    expect(replaceBetweenMarkers(replaceBetweenMarkers(doc, 'A'), 'B')).toBe(
      replaceBetweenMarkers(doc, 'B'),
    );
    expect(() => replaceBetweenMarkers('# no markers', 'x')).toThrow(/markers/);
    expect(() => replaceBetweenMarkers(`${END_MARKER}\n${START_MARKER}`, 'x')).toThrow(/markers/);
  });
});
