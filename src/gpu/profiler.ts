/**
 * A kernel profiler for a window of work (one call or a few training steps).
 *
 * Attach one to a runtime ({@link Profiler.start}) and every dispatch is recorded with its
 * kernel, the phase the caller set (`forward`, `backward`, `optimizer`, …), its workgroups and
 * the bytes of the buffers it binds. Where the device has `timestamp-query`, each dispatch runs
 * in its own compute pass with a begin and end timestamp, so its GPU time is measured; without
 * the feature, the time of each submit (wall clock from `submit` to `onSubmittedWorkDone`) is
 * recorded and kernels get counts and bytes only. Readbacks and uploads are counted too.
 *
 * With no profiler attached the runtime pays one null check per dispatch, nothing else.
 *
 * ```ts
 * const prof = Profiler.start(runtime());
 * prof.phase = "forward"; const loss = model.loss(batch);
 * prof.phase = "backward"; backward(loss);
 * prof.phase = "optimizer"; opt.step();
 * prof.step();
 * const report = await prof.stop();
 * console.log(formatProfile(report));
 * ```
 * @module
 */

import type { KernelSpec } from "./kernel.ts";
import type { PooledBuffer } from "./pool.ts";

/** The part of a runtime a profiler hooks into (structurally `Runtime`). */
export interface ProfiledRuntime {
  /** The device (timestamps need its `timestamp-query` feature). */
  readonly device: GPUDevice;
  /** The hook the runtime calls; null when off. */
  profiler: Profiler | null;
  /** Submits pending work. */
  flush(): void;
}

/** One kernel's (or one phase's) totals in a {@link ProfileReport}. */
export interface ProfileRow {
  /** Kernel name (spec name), or phase name. */
  name: string;
  /** Dispatches. */
  dispatches: number;
  /** GPU milliseconds from timestamps (null without them). */
  gpuMs: number | null;
  /** Bytes of the buffers bound by its dispatches (an upper bound on traffic). */
  bytes: number;
  /** Share of the window's measured GPU time (0–1; null without timestamps). */
  share: number | null;
}

/** What {@link Profiler.stop} returns; everything per step is divided by `steps`. */
export interface ProfileReport {
  /** `timestamp-query` (per-kernel GPU time) or `wall-clock` (per submit). */
  method: "timestamp-query" | "wall-clock";
  /** Adapter description, when given to {@link Profiler.start}. */
  adapter: string;
  /** Steps marked with {@link Profiler.step} (at least 1). */
  steps: number;
  /** Wall-clock milliseconds of the window. */
  wallMs: number;
  /** Sum of kernel GPU time (timestamps) or of submit times (wall clock), ms. */
  gpuMs: number;
  /** Per step: dispatches, submits, readbacks, bytes read back, bytes uploaded. */
  perStep: {
    dispatches: number;
    submits: number;
    readbacks: number;
    readBytes: number;
    uploadBytes: number;
  };
  /** Totals by kernel, slowest (or most dispatched) first. */
  byKernel: ProfileRow[];
  /** Totals by phase. */
  byPhase: ProfileRow[];
}

/** Dispatches per query set (two timestamps each); a runtime batch holds at most 2048. */
const SLOTS = 2048;

interface Rec {
  kernel: string;
  phase: string;
  bytes: number;
  ns: number;
}

/** Records the dispatches of a runtime while attached. */
export class Profiler {
  /** Phase that new dispatches are attributed to. */
  phase = "other";
  readonly #rt: ProfiledRuntime;
  readonly #adapter: string;
  readonly #timestamps: boolean;
  #querySet: GPUQuerySet | null = null;
  #resolve: GPUBuffer | null = null;
  #records: Rec[] = [];
  /** Records of the batch being recorded that own a timestamp slot. */
  #batch: Rec[] = [];
  #reads: Promise<void>[] = [];
  #steps = 0;
  #submits = 0;
  #submitMs = 0;
  #readbacks = 0;
  #readBytes = 0;
  #uploadBytes = 0;
  #t0 = performance.now();

  private constructor(rt: ProfiledRuntime, adapter: string, timestamps: boolean) {
    this.#rt = rt;
    this.#adapter = adapter;
    this.#timestamps = timestamps && rt.device.features.has("timestamp-query");
  }

  /**
   * Attaches a profiler to `rt` (pending work is submitted first, so it is not counted).
   * `timestamps: false` forces the wall-clock method.
   */
  static start(
    rt: ProfiledRuntime,
    opts: { adapter?: string; timestamps?: boolean } = {},
  ): Profiler {
    if (rt.profiler) throw new Error("wgrec Profiler.start: a profiler is already attached");
    rt.flush();
    const p = new Profiler(rt, opts.adapter ?? "", opts.timestamps ?? true);
    rt.profiler = p;
    return p;
  }

  /** Whether dispatches get their own timestamped pass. */
  get timestamps(): boolean {
    return this.#timestamps;
  }

  /** Marks the end of a training step (per-step figures divide by the count). */
  step(): void {
    this.#steps++;
  }

  /**
   * Runtime hook: a dispatch is about to be recorded. Returns the timestamp writes of its own
   * pass, or undefined (wall-clock method).
   */
  onDispatch(
    spec: KernelSpec,
    buffers: Readonly<Record<string, PooledBuffer>>,
  ): GPUComputePassTimestampWrites | undefined {
    let bytes = 0;
    for (const k in buffers) bytes += buffers[k].size;
    const rec: Rec = { kernel: spec.name, phase: this.phase, bytes, ns: 0 };
    this.#records.push(rec);
    if (!this.#timestamps) return undefined;
    if (this.#batch.length >= SLOTS) return undefined; // the runtime flushes before this
    const i = this.#batch.length;
    this.#batch.push(rec);
    this.#querySet ??= this.#rt.device.createQuerySet({ type: "timestamp", count: 2 * SLOTS });
    return {
      querySet: this.#querySet,
      beginningOfPassWriteIndex: 2 * i,
      endOfPassWriteIndex: 2 * i + 1,
    };
  }

  /** Runtime hook: the encoder is about to be finished and submitted. */
  beforeSubmit(encoder: GPUCommandEncoder): void {
    this.#submits++;
    const recs = this.#batch.splice(0);
    if (!recs.length || !this.#querySet) return;
    const bytes = recs.length * 16;
    this.#resolve ??= this.#rt.device.createBuffer({
      size: 2 * SLOTS * 8,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const staging = this.#rt.device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    encoder.resolveQuerySet(this.#querySet, 0, 2 * recs.length, this.#resolve, 0);
    encoder.copyBufferToBuffer(this.#resolve, 0, staging, 0, bytes);
    this.#reads.push(this.#mapLater(staging, recs));
  }

  async #mapLater(staging: GPUBuffer, recs: Rec[]): Promise<void> {
    // Mapping waits for the submit that beforeSubmit's caller is about to make.
    await Promise.resolve();
    await staging.mapAsync(GPUMapMode.READ);
    const t = new BigUint64Array(staging.getMappedRange());
    recs.forEach((r, i) => (r.ns = Math.max(0, Number(t[2 * i + 1] - t[2 * i]))));
    staging.unmap();
    staging.destroy();
  }

  /** Runtime hook: a command buffer was submitted (wall-clock method times it). */
  afterSubmit(): void {
    if (this.#timestamps) return;
    const t = performance.now();
    this.#reads.push(
      this.#rt.device.queue.onSubmittedWorkDone().then(() => {
        this.#submitMs += performance.now() - t;
      }),
    );
  }

  /** Runtime hook: a readback of `bytes`. */
  onReadback(bytes: number): void {
    this.#readbacks++;
    this.#readBytes += bytes;
  }

  /** Runtime hook: an upload of `bytes`. */
  onUpload(bytes: number): void {
    this.#uploadBytes += bytes;
  }

  /** Detaches, waits for the timestamps and returns the report. */
  async stop(): Promise<ProfileReport> {
    this.#rt.flush();
    if (this.#rt.profiler === this) this.#rt.profiler = null;
    await this.#rt.device.queue.onSubmittedWorkDone();
    await Promise.all(this.#reads);
    const wallMs = performance.now() - this.#t0;
    this.#querySet?.destroy();
    this.#resolve?.destroy();
    const ts = this.#timestamps;
    const total = ts ? this.#records.reduce((a, r) => a + r.ns, 0) / 1e6 : this.#submitMs;
    const rows = (key: (r: Rec) => string): ProfileRow[] => {
      const m = new Map<string, ProfileRow>();
      for (const r of this.#records) {
        const k = key(r);
        let row = m.get(k);
        if (!row) {
          m.set(k, row = { name: k, dispatches: 0, gpuMs: ts ? 0 : null, bytes: 0, share: null });
        }
        row.dispatches++;
        row.bytes += r.bytes;
        if (ts) row.gpuMs! += r.ns / 1e6;
      }
      const out = [...m.values()];
      for (const r of out) if (ts && total > 0) r.share = r.gpuMs! / total;
      return out.sort((a, b) => (b.gpuMs ?? 0) - (a.gpuMs ?? 0) || b.dispatches - a.dispatches);
    };
    const steps = Math.max(1, this.#steps);
    return {
      method: ts ? "timestamp-query" : "wall-clock",
      adapter: this.#adapter,
      steps,
      wallMs,
      gpuMs: total,
      perStep: {
        dispatches: this.#records.length / steps,
        submits: this.#submits / steps,
        readbacks: this.#readbacks / steps,
        readBytes: this.#readBytes / steps,
        uploadBytes: this.#uploadBytes / steps,
      },
      byKernel: rows((r) => r.kernel),
      byPhase: rows((r) => r.phase),
    };
  }
}

function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 3 : 1);
}

/** The report as a terminal table (per step: ms, dispatches, MiB bound). */
export function formatProfile(r: ProfileReport, top = 20): string {
  const s = r.steps;
  const head = `profile: ${r.steps} step(s), ${r.method}${r.adapter ? `, ${r.adapter}` : ""}; ` +
    `per step: wall ${(r.wallMs / s).toFixed(1)} ms, GPU ${(r.gpuMs / s).toFixed(1)} ms, ` +
    `${r.perStep.dispatches.toFixed(0)} dispatches, ${r.perStep.submits.toFixed(1)} submits, ` +
    `${r.perStep.readbacks.toFixed(1)} readbacks (${mb(r.perStep.readBytes)} MiB), ` +
    `uploads ${mb(r.perStep.uploadBytes)} MiB`;
  const table = (title: string, rows: ProfileRow[]) => {
    const lines = [
      `${title.padEnd(28)} ${"ms/step".padStart(9)} ${"share".padStart(6)} ` +
      `${"disp/step".padStart(9)} ${"MiB/step".padStart(9)}`,
    ];
    for (const row of rows.slice(0, top)) {
      lines.push(
        `${row.name.slice(0, 28).padEnd(28)} ` +
          `${row.gpuMs === null ? "-".padStart(9) : (row.gpuMs / s).toFixed(2).padStart(9)} ` +
          `${
            row.share === null ? "-".padStart(6) : `${(100 * row.share).toFixed(1)}%`.padStart(6)
          } ` +
          `${(row.dispatches / s).toFixed(1).padStart(9)} ${mb(row.bytes / s).padStart(9)}`,
      );
    }
    if (rows.length > top) lines.push(`… ${rows.length - top} more`);
    return lines.join("\n");
  };
  return [head, table("phase", r.byPhase), table("kernel", r.byKernel)].join("\n\n");
}
