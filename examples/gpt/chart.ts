/**
 * The loss curves as a standalone SVG: the training loss of every iteration (thin, light),
 * and the train and validation estimates of each evaluation (thick, with points).
 */
import type { LossHistory } from './checkpoint.js';

const WIDTH = 720;
const HEIGHT = 420;
const MARGIN = { left: 60, right: 20, top: 30, bottom: 45 };

function niceTicks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** The SVG text of the chart (empty axes when there is nothing to draw yet). */
export function lossChartSvg(history: LossHistory, title: string): string {
  const trainPoints = history.train.map((loss, iter) => [iter, loss] as const).filter(([, l]) => Number.isFinite(l));
  const all = [...trainPoints.map(([, l]) => l), ...history.evals.flatMap((e) => [e.train, e.val])];
  const maxIter = Math.max(1, history.train.length, ...history.evals.map((e) => e.iter));
  const lo = all.length ? Math.min(...all) : 0;
  const hi = all.length ? Math.max(...all) : 1;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (iter: number): number => MARGIN.left + (iter / maxIter) * plotW;
  const y = (loss: number): number => MARGIN.top + (1 - (loss - lo) / (hi - lo || 1)) * plotH;
  const fmt = (n: number): string => n.toFixed(1);
  const path = (pts: readonly (readonly [number, number])[]): string => pts.map(([i, l], k) => `${k ? 'L' : 'M'}${fmt(x(i))},${fmt(y(l))}`).join('');

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="14">${title.replace(/[<&>]/g, '')}</text>`,
  ];
  for (const t of niceTicks(lo, hi, 6)) {
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${fmt(y(t))}" y2="${fmt(y(t))}" stroke="#eee"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${fmt(y(t) + 4)}" text-anchor="end">${t}</text>`);
  }
  for (const t of niceTicks(0, maxIter, 8)) {
    parts.push(`<text x="${fmt(x(t))}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${t}</text>`);
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle">iteration</text>`,
    `<text x="14" y="${MARGIN.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 14 ${MARGIN.top + plotH / 2})">loss (nats/char)</text>`,
  );
  if (trainPoints.length) parts.push(`<path d="${path(trainPoints)}" fill="none" stroke="#9ecae1" stroke-width="1"/>`);
  const series = [
    ['train (eval)', '#08519c', history.evals.map((e) => [e.iter, e.train] as const)],
    ['validation', '#d94801', history.evals.map((e) => [e.iter, e.val] as const)],
  ] as const;
  series.forEach(([label, color, pts], k) => {
    if (pts.length) parts.push(`<path d="${path(pts)}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const [i, l] of pts) parts.push(`<circle cx="${fmt(x(i))}" cy="${fmt(y(l))}" r="3" fill="${color}"/>`);
    const ly = MARGIN.top + 16 + 16 * k;
    parts.push(`<line x1="${WIDTH - 170}" x2="${WIDTH - 150}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${WIDTH - 145}" y="${ly}">${label}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
