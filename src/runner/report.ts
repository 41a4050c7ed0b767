/**
 * What a run writes besides weights: the per-epoch CSV log, a Markdown table, and an SVG of
 * the training loss and the valid selection metric per epoch.
 * @module
 */

import type { EpochLog } from "../train/loop.ts";

/** Number formatting of the tables ("–" for missing). */
export function fmt(x: number | undefined): string {
  return x === undefined || Number.isNaN(x) ? "–" : x.toFixed(4);
}

/** One row per epoch: epoch (0-based), loss, lr, seconds, loss parts, valid metrics. */
export function epochsCsv(history: EpochLog[]): string {
  const parts = [...new Set(history.flatMap((h) => Object.keys(h.parts)))];
  const metrics = [...new Set(history.flatMap((h) => Object.keys(h.valid ?? {})))];
  const head = ["epoch", "loss", "lr", "seconds", ...parts, ...metrics.map((m) => `valid_${m}`)];
  const rows = history.map((h) =>
    [
      h.epoch,
      h.loss,
      h.lr,
      h.seconds.toFixed(3),
      ...parts.map((p) => h.parts[p] ?? ""),
      ...metrics.map((m) => h.valid?.[m] ?? ""),
    ].join(",")
  );
  return [head.join(","), ...rows].join("\n") + "\n";
}

/** A Markdown table: one row per labelled metric record, the given columns. */
export function metricsTable(rows: [string, Record<string, number>][], cols: string[]): string {
  return [
    `| | ${cols.join(" | ")} |`,
    `|---|${cols.map(() => "---:").join("|")}|`,
    ...rows.map(([name, m]) => `| ${name} | ${cols.map((c) => fmt(m[c])).join(" | ")} |`),
  ].join("\n");
}

/** A curve: name, colour and (x, y) points. */
export interface Series {
  /** Legend. */
  name: string;
  /** Points. */
  pts: [number, number][];
}

const COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#7f7f7f"];

/** Two panels side by side: e.g. training loss (log scale) and a valid metric per epoch. */
export function curvesSvg(
  left: { title: string; series: Series[]; logY?: boolean },
  right: { title: string; series: Series[]; logY?: boolean },
): string {
  const W = 460, H = 300, pad = 48;
  const panel = (x0: number, p: typeof left) => {
    const all = p.series.flatMap((s) => s.pts).filter(([, y]) => Number.isFinite(y));
    if (!all.length) return "";
    const ty = (y: number) => (p.logY ? Math.log10(Math.max(y, 1e-6)) : y);
    const xs = all.map((q) => q[0]);
    const ys = all.map((q) => ty(q[1]));
    const [x1, x2] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)];
    let [y1, y2] = [Math.min(...ys), Math.max(...ys)];
    if (y2 - y1 < 1e-9) [y1, y2] = [y1 - 1, y2 + 1];
    const px = (x: number) => x0 + pad + ((x - x1) / (x2 - x1)) * (W - 2 * pad);
    const py = (y: number) => H - pad - ((ty(y) - y1) / (y2 - y1)) * (H - 2 * pad);
    const parts = [
      `<text x="${x0 + W / 2}" y="20" text-anchor="middle" font-size="14">${p.title}</text>`,
      `<rect x="${x0 + pad}" y="${pad}" width="${W - 2 * pad}" height="${
        H - 2 * pad
      }" fill="none" stroke="#999"/>`,
      `<text x="${x0 + W / 2}" y="${H - 10}" text-anchor="middle" font-size="11">epoch</text>`,
    ];
    for (let k = 0; k <= 4; k++) {
      const yv = y1 + ((y2 - y1) * k) / 4;
      const label = p.logY ? (10 ** yv).toPrecision(3) : yv.toFixed(3);
      const yy = H - pad - ((yv - y1) / (y2 - y1)) * (H - 2 * pad);
      parts.push(
        `<text x="${x0 + pad - 4}" y="${yy + 4}" text-anchor="end" font-size="10">${label}</text>`,
      );
    }
    parts.push(`<text x="${x0 + pad}" y="${H - pad + 14}" font-size="10">${x1}</text>`);
    parts.push(
      `<text x="${x0 + W - pad}" y="${H - pad + 14}" text-anchor="end" font-size="10">${x2}</text>`,
    );
    p.series.forEach((s, i) => {
      const color = COLORS[i % COLORS.length];
      const d = s.pts.filter(([, y]) => Number.isFinite(y))
        .map((q, j) => `${j ? "L" : "M"}${px(q[0]).toFixed(1)},${py(q[1]).toFixed(1)}`).join("");
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
      parts.push(
        `<text x="${x0 + W - pad - 4}" y="${
          pad + 14 + 14 * i
        }" text-anchor="end" font-size="11" fill="${color}">${s.name}</text>`,
      );
    });
    return parts.join("\n");
  };
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H}" ` +
    `font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel(0, left),
    panel(W, right),
    "</svg>",
  ].join("\n") + "\n";
}

/** Loss and valid-metric series of a history (x = 1-based epoch on the plot axis). */
export function historySeries(
  name: string,
  history: EpochLog[],
  metric: string,
): { loss: Series; valid: Series } {
  return {
    loss: { name, pts: history.map((h) => [h.epoch + 1, h.loss]) },
    valid: {
      name,
      pts: history.filter((h) => h.valid?.[metric] !== undefined)
        .map((h) => [h.epoch + 1, h.valid![metric]]),
    },
  };
}

/** Mean and sample standard deviation (n − 1; 0 for one value). */
export function meanStd(xs: number[]): { mean: number; std: number } {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const v = n > 1 ? xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(v) };
}
