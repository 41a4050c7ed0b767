/**
 * Progress display of the training loop: a one-line bar, redrawn in place on a terminal.
 * @module
 */

import type { ProgressInfo } from "./loop.ts";

/** Renders {@link ProgressInfo} as a one-line progress bar. */
export function formatProgress(p: ProgressInfo, width = 24): string {
  const frac = p.steps ? p.step / p.steps : 1;
  const filled = Math.round(frac * width);
  const bar = "█".repeat(filled) + "░".repeat(width - filled);
  const v = p.valid === undefined ? "" : `  valid ${p.valid.toFixed(4)}`;
  return `${p.model} epoch ${p.epoch + 1}/${p.epochs} ${bar} ${p.step}/${p.steps}` +
    `  loss ${Number.isFinite(p.loss) ? p.loss.toFixed(4) : "…"}` +
    `  ${rate(p.samplesPerSec)} samples/s  ETA ${fmtSeconds(p.etaSec)}${v}`;
}

/** Samples per second: whole above 10, one decimal below (slow pretraining steps). */
function rate(r: number): string {
  return r >= 10 ? String(Math.round(r)) : r.toFixed(1);
}

/** `m:ss` or `h:mm:ss`. */
export function fmtSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/**
 * A progress bar on stderr: redrawn in place on a terminal, one line per epoch otherwise.
 * Uses `Deno.stderr` when present and `console.log` elsewhere (browsers).
 */
export function terminalProgress(): (p: ProgressInfo) => void {
  // deno-lint-ignore no-explicit-any
  const deno = (globalThis as any).Deno;
  const tty = !!deno?.stderr?.isTerminal?.();
  const enc = new TextEncoder();
  return (p) => {
    const line = formatProgress(p);
    if (tty) deno.stderr.writeSync(enc.encode(`\r\x1b[2K${line}${p.done ? "\n" : ""}`));
    else if (p.done) {
      if (deno?.stderr) deno.stderr.writeSync(enc.encode(line + "\n"));
      else console.log(line);
    }
  };
}
