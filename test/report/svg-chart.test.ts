/** The SVG line chart and page escaping: ticks enclose the data, text is escaped, one point still renders. */
import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../src/report/html-escape.js';
import { lineChartSvg, niceTicks, numberLabel } from '../../src/report/svg-chart.js';

const T0 = Date.UTC(2024, 2, 15, 19, 0);

describe('niceTicks', () => {
  it('encloses the range with round steps', () => {
    expect(niceTicks(0, 946)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(niceTicks(-3, 7)).toEqual([-4, -2, 0, 2, 4, 6, 8]);
    expect(niceTicks(0, 0.3)).toEqual([0, 0.1, 0.2, 0.3]);
  });

  it('labels numbers compactly', () => {
    expect([numberLabel(12_500), numberLabel(2_500_000), numberLabel(0.25), numberLabel(800)]).toEqual(['12.5k', '2.5M', '0.25', '800']);
  });
});

describe('lineChartSvg', () => {
  it('draws one path through every point, in time order, inside the plot', () => {
    const svg = lineChartSvg([{ timeMs: T0 + 120_000, value: 5 }, { timeMs: T0, value: 1 }, { timeMs: T0 + 60_000, value: 9 }], { title: 'm', xLabel: 'window_start (UTC)', yLabel: 'n' });
    const d = /<path class="line" d="([^"]+)"/.exec(svg)?.[1] ?? '';
    const pts = [...d.matchAll(/[ML]([\d.]+),([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
    expect(pts).toHaveLength(3);
    expect(pts.map((p) => p[0])).toEqual([...pts.map((p) => p[0])].sort((a, b) => a - b));
    for (const [x, y] of pts) { expect(x).toBeGreaterThanOrEqual(72); expect(x).toBeLessThanOrEqual(740); expect(y).toBeGreaterThanOrEqual(34); expect(y).toBeLessThanOrEqual(232); }
    expect(svg).toContain('>19:01:00<'); // a two-minute span ticks every 30 s
    expect(svg).toContain('>window_start (UTC)<');
  });

  it('escapes every text it is given and still renders a single window', () => {
    const svg = lineChartSvg([{ timeMs: T0, value: 3 }], { title: '<b>"x"</b>', xLabel: 'a & b', yLabel: "it's" });
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('&lt;b&gt;&quot;x&quot;&lt;/b&gt;');
    expect(svg).toContain('a &amp; b');
    expect(svg).toContain('it&#39;s');
    expect(svg).toMatch(/<path class="line" d="M[\d.]+,[\d.]+"/);
  });

  it('escapeHtml covers the five special characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
