/**
 * The α trade-off plot: personalisation against accuracy of the selected candidates, one
 * panel per modality, points labelled by α and the unpersonalised baseline marked. Plain SVG.
 * @module
 */

/** One panel: the curve's points (α, accuracy, personalisation) and the baseline point. */
export interface TradeoffPanel {
  /** Panel title. */
  title: string;
  /** Axis names. */
  x: string;
  /** See {@link x}. */
  y: string;
  /** The curve over α. */
  points: { alpha: number; acc: number; pers: number }[];
  /** The unpersonalised baseline. */
  baseline: { acc: number; pers: number };
}

const W = 360, H = 300, M = { l: 56, r: 16, t: 30, b: 44 };

function panel(p: TradeoffPanel, dx: number): string {
  const xs = [...p.points.map((q) => q.acc), p.baseline.acc];
  const ys = [...p.points.map((q) => q.pers), p.baseline.pers];
  const pad = (lo: number, hi: number) => {
    const e = Math.max(1e-3, (hi - lo) * 0.12);
    return [lo - e, hi + e];
  };
  const [x0, x1] = pad(Math.min(...xs), Math.max(...xs));
  const [y0, y1] = pad(Math.min(...ys), Math.max(...ys));
  const X = (v: number) => dx + M.l + ((v - x0) / (x1 - x0)) * (W - M.l - M.r);
  const Y = (v: number) => M.t + (1 - (v - y0) / (y1 - y0)) * (H - M.t - M.b);
  const f = (v: number) => v.toFixed(3);
  const out = [
    `<text x="${dx + W / 2}" y="18" text-anchor="middle" font-weight="bold">${p.title}</text>`,
    `<rect x="${dx + M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" ` +
    `fill="none" stroke="#999"/>`,
    `<text x="${dx + M.l}" y="${H - 26}" font-size="10">${f(x0)}</text>`,
    `<text x="${dx + W - M.r}" y="${H - 26}" font-size="10" text-anchor="end">${f(x1)}</text>`,
    `<text x="${dx + M.l - 4}" y="${H - M.b}" font-size="10" text-anchor="end">${f(y0)}</text>`,
    `<text x="${dx + M.l - 4}" y="${M.t + 10}" font-size="10" text-anchor="end">${f(y1)}</text>`,
    `<text x="${dx + (W + M.l) / 2}" y="${
      H - 8
    }" text-anchor="middle" font-size="12">${p.x}</text>`,
    `<text transform="translate(${dx + 14},${(H + M.t) / 2}) rotate(-90)" text-anchor="middle" ` +
    `font-size="12">${p.y}</text>`,
    `<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${
      p.points.map((q) => `${X(q.acc).toFixed(1)},${Y(q.pers).toFixed(1)}`).join(" ")
    }"/>`,
    ...p.points.map((q) =>
      `<circle cx="${X(q.acc).toFixed(1)}" cy="${Y(q.pers).toFixed(1)}" r="4" fill="#1f77b4"/>` +
      `<text x="${(X(q.acc) + 6).toFixed(1)}" y="${(Y(q.pers) - 6).toFixed(1)}" font-size="11">` +
      `α=${q.alpha}</text>`
    ),
    `<rect x="${(X(p.baseline.acc) - 5).toFixed(1)}" y="${(Y(p.baseline.pers) - 5).toFixed(1)}" ` +
    `width="10" height="10" fill="#d62728"/>` +
    `<text x="${(X(p.baseline.acc) + 8).toFixed(1)}" y="${(Y(p.baseline.pers) + 14).toFixed(1)}" ` +
    `font-size="11" fill="#d62728">no prefix, w=0</text>`,
  ];
  return out.join("\n");
}

/** An SVG of the panels side by side. */
export function tradeoffSvg(panels: readonly TradeoffPanel[]): string {
  const w = W * panels.length;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${H}" ` +
    `font-family="sans-serif" viewBox="0 0 ${w} ${H}">`,
    `<rect width="${w}" height="${H}" fill="white"/>`,
    ...panels.map((p, i) => panel(p, i * W)),
    "</svg>",
  ].join("\n") + "\n";
}
