/**
 * The live loss curve: a 2-D canvas with every step's loss (thin) and an exponential moving
 * average (thick), on axes that rescale as training goes.
 * @module
 */

/** Draws a loss history on a canvas. */
export class LossPlot {
  readonly #ctx: CanvasRenderingContext2D;

  /** A plot on `canvas` (its CSS size decides the drawing size). */
  constructor(readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("no 2-D canvas context");
    this.#ctx = ctx;
  }

  /** Redraws `losses` (one per step), with `marks` (step numbers, e.g. epoch ends) as ticks. */
  draw(losses: readonly number[], marks: readonly number[] = []): void {
    const dpr = globalThis.devicePixelRatio || 1;
    const cw = this.canvas.clientWidth, ch = this.canvas.clientHeight;
    if (this.canvas.width !== Math.round(cw * dpr)) this.canvas.width = Math.round(cw * dpr);
    if (this.canvas.height !== Math.round(ch * dpr)) this.canvas.height = Math.round(ch * dpr);
    const g = this.#ctx;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, cw, ch);
    const left = 48, right = 10, top = 8, bottom = 24;
    const w = cw - left - right, h = ch - top - bottom;
    g.font = "11px system-ui, sans-serif";
    g.fillStyle = "#5d6878";
    if (losses.length === 0) {
      g.fillText("waiting for the first step…", left + 8, top + 16);
      return;
    }
    const ema: number[] = [];
    let m = losses[0];
    for (const l of losses) ema.push(m = 0.9 * m + 0.1 * l);
    let lo = Math.min(...losses), hi = Math.max(...losses);
    if (hi - lo < 1e-6) [lo, hi] = [lo - 0.5, hi + 0.5];
    const pad = 0.05 * (hi - lo);
    lo -= pad;
    hi += pad;
    const n = Math.max(2, losses.length);
    const x = (i: number) => left + (w * i) / (n - 1);
    const y = (v: number) => top + h * (1 - (v - lo) / (hi - lo));

    // Grid and labels.
    g.strokeStyle = "#e6e9ef";
    g.lineWidth = 1;
    g.textAlign = "right";
    g.textBaseline = "middle";
    for (const v of niceTicks(lo, hi, 5)) {
      g.beginPath();
      g.moveTo(left, y(v));
      g.lineTo(left + w, y(v));
      g.stroke();
      g.fillText(String(+v.toPrecision(3)), left - 6, y(v));
    }
    g.textAlign = "center";
    g.textBaseline = "top";
    for (const s of niceTicks(0, n - 1, 6)) {
      if (!Number.isInteger(s)) continue;
      g.fillText(String(s + 1), x(s), top + h + 6);
    }
    g.strokeStyle = "#c9d0db";
    for (const s of marks) {
      if (s < 1 || s > n) continue;
      g.beginPath();
      g.moveTo(x(s - 1), top + h);
      g.lineTo(x(s - 1), top + h - 6);
      g.stroke();
    }

    const line = (vals: readonly number[], color: string, width: number) => {
      g.strokeStyle = color;
      g.lineWidth = width;
      g.beginPath();
      vals.forEach((v, i) => (i ? g.lineTo(x(i), y(v)) : g.moveTo(x(i), y(v))));
      g.stroke();
    };
    line(losses, "rgba(47,111,222,0.35)", 1);
    line(ema, "#2f6fde", 2.2);
  }
}

/** About `count` round numbers spanning [lo, hi]. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) {
    out.push(Math.abs(v) < 1e-12 * span ? 0 : v);
  }
  return out;
}
