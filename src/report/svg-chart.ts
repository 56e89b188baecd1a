/**
 * A small, dependency-free SVG line chart over time: one series, x = time (UTC), y = a number.
 * The output is an inline `<svg>` (no external fonts, styles or scripts) with a title, axis
 * labels, gridlines with tick labels, the line as one `<path>` and point markers when there
 * are few points. Pure: the same input gives the same text.
 */
import { escapeHtml } from './html-escape.js';

export interface ChartPoint {
  /** Epoch milliseconds. */
  readonly timeMs: number;
  readonly value: number;
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly width?: number;
  readonly height?: number;
}

const MARGIN = { top: 34, right: 20, bottom: 48, left: 72 };
const TIME_STEPS_MS = [1, 5, 10, 15, 30].map((s) => s * 1000)
  .concat([1, 2, 5, 10, 15, 30].map((m) => m * 60_000))
  .concat([1, 2, 3, 6, 12].map((h) => h * 3_600_000))
  .concat([1, 2, 7, 14, 30, 90, 365].map((d) => d * 86_400_000));

/** Round tick values covering [lo, hi]: steps of 1, 2 or 5 × 10^k, about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag);
  // From the step at or below lo to the step at or above hi, so the ticks enclose every value.
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const out: number[] = [];
  for (let i = first; i <= last; i++) out.push(Number((i * step).toPrecision(12)));
  return out;
}

function timeTicks(lo: number, hi: number, count = 6): { ticks: number[]; stepMs: number } {
  const stepMs = TIME_STEPS_MS.find((s) => (hi - lo) / s <= count) ?? (TIME_STEPS_MS[TIME_STEPS_MS.length - 1] as number);
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / stepMs) * stepMs; t <= hi; t += stepMs) ticks.push(t);
  return { ticks, stepMs };
}

function timeLabel(ms: number, stepMs: number, multiDay: boolean): string {
  const iso = new Date(ms).toISOString();
  const clock = stepMs < 60_000 ? iso.slice(11, 19) : iso.slice(11, 16);
  if (stepMs >= 86_400_000) return iso.slice(0, 10);
  return multiDay ? `${iso.slice(5, 10)} ${clock}` : clock;
}

/** Compact number label: 12,500 → "12.5k", 0.25 → "0.25". */
export function numberLabel(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e9) return `${+(v / 1e9).toFixed(2)}G`;
  if (abs >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  return String(+v.toPrecision(4));
}

const fmt = (n: number): string => String(Math.round(n * 10) / 10);

/** Renders `points` (any order) as an inline SVG line chart; at least one point is expected. */
export function lineChartSvg(points: readonly ChartPoint[], options: LineChartOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 280;
  const sorted = [...points].sort((a, b) => a.timeMs - b.timeMs);
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  let xLo = sorted[0]?.timeMs ?? 0;
  let xHi = sorted[sorted.length - 1]?.timeMs ?? 0;
  if (xHi === xLo) { xLo -= 60_000; xHi += 60_000; } // one window: centre it in a two-minute span
  const values = sorted.map((p) => p.value);
  // A fold, not a spread: a metric can have more windows than call arguments fit on the stack.
  const yTicks = niceTicks(values.reduce((m, v) => Math.min(m, v), 0), values.reduce((m, v) => Math.max(m, v), 0) || 1);
  const yLo = yTicks[0] as number;
  const yHi = Math.max(yTicks[yTicks.length - 1] as number, yLo + 1);
  const x = (t: number): number => MARGIN.left + ((t - xLo) / (xHi - xLo)) * plotW;
  const y = (v: number): number => MARGIN.top + plotH - ((v - yLo) / (yHi - yLo)) * plotH;
  const { ticks: xTicks, stepMs } = timeTicks(xLo, xHi);
  const multiDay = new Date(xLo).toISOString().slice(0, 10) !== new Date(xHi).toISOString().slice(0, 10);
  const parts: string[] = [];
  parts.push(`<svg class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(options.title)}">`);
  parts.push(`<title>${escapeHtml(options.title)}</title>`);
  parts.push(`<text class="chart-title" x="${MARGIN.left}" y="20">${escapeHtml(options.title)}</text>`);
  for (const v of yTicks) {
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${fmt(y(v))}" y2="${fmt(y(v))}"/>`);
    parts.push(`<text class="tick" x="${MARGIN.left - 6}" y="${fmt(y(v) + 4)}" text-anchor="end">${escapeHtml(numberLabel(v))}</text>`);
  }
  for (const t of xTicks) {
    parts.push(`<line class="grid" x1="${fmt(x(t))}" x2="${fmt(x(t))}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}"/>`);
    parts.push(`<text class="tick" x="${fmt(x(t))}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escapeHtml(timeLabel(t, stepMs, multiDay))}</text>`);
  }
  parts.push(`<line class="axis" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${fmt(y(yLo))}" y2="${fmt(y(yLo))}"/>`);
  parts.push(`<line class="axis" x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}"/>`);
  parts.push(`<text class="axis-label" x="${MARGIN.left + plotW / 2}" y="${height - 8}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>`);
  parts.push(`<text class="axis-label" transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(options.yLabel)}</text>`);
  const d = sorted.map((p, i) => `${i === 0 ? 'M' : 'L'}${fmt(x(p.timeMs))},${fmt(y(p.value))}`).join(' ');
  parts.push(`<path class="line" d="${d}"/>`);
  if (sorted.length <= 80) {
    for (const p of sorted) parts.push(`<circle class="point" cx="${fmt(x(p.timeMs))}" cy="${fmt(y(p.value))}" r="2.5"><title>${escapeHtml(`${new Date(p.timeMs).toISOString()}: ${p.value}`)}</title></circle>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}
