/**
 * Timing and reporting for benchmark scripts that compare wgrec with other WebGPU libraries in
 * one process (bench/compare.ts). Library-agnostic: a measured function only has to submit its
 * GPU work to the given device's queue before it returns (or before its promise resolves).
 *
 * GPU time comes from timestamp queries when the device has the "timestamp-query" feature:
 * while a function runs, every `queue.submit` of its device is bracketed by two empty compute
 * passes that write a timestamp at the beginning and at the end, and the time of a repetition
 * is the sum of those spans (GPU time of the submitted work, without the CPU gaps between
 * submits). Without the feature it is wall-clock time from the call to `onSubmittedWorkDone`.
 * Wall-clock time is recorded in both cases.
 *
 * ```ts
 * const t = await timeGpu(() => { matmul(a, b).dispose(); runtime().flush(); },
 *   { device: runtime().device, warmup: 2, reps: 10 });
 * console.log(t.method, t.median);
 * ```
 * @module
 */

/** How a {@link Timing} was measured. */
export type TimingMethod = "timestamp-query" | "wall-clock";

/** Options of {@link timeGpu}. */
export interface TimeGpuOptions {
  /** The device the measured function submits to. */
  device: GPUDevice;
  /** Untimed calls first (pipeline compilation, allocations). Default 1. */
  warmup?: number;
  /** Timed repetitions at most. Default 5. */
  reps?: number;
  /** Timed repetitions at least, whatever the budget. Default 3. */
  minReps?: number;
  /** Stop adding repetitions once the timed ones took this long (ms, wall). Default: no limit. */
  budgetMs?: number;
  /** Use timestamp queries when the device has them. Default true. */
  timestamps?: boolean;
}

/** Repetition times in milliseconds, with their summary. */
export interface Timing {
  method: TimingMethod;
  /**
   * CPU time of this process's driver threads ({@link workerCpuMs}) per repetition (mean over
   * the timed ones; 10 ms ticks, Linux only, else null). On a software adapter these threads
   * are the "GPU", so this is the work done independently of how busy the machine is.
   */
  workerCpuMs: number | null;
  /** Per repetition, by `method`. */
  ms: number[];
  /** Per repetition, wall clock from the call to `onSubmittedWorkDone`. */
  wallMs: number[];
  median: number;
  min: number;
  max: number;
}

/** Median, min and max of samples. */
export function summarize(xs: readonly number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1] };
}

/**
 * CPU milliseconds used so far by this process's driver threads: all but the JS main thread,
 * V8's helpers (concurrent GC of any library) and Deno's tokio workers (Linux /proc; null
 * elsewhere). With Mesa's lavapipe these are the threads that run the shaders and the queue.
 */
export function workerCpuMs(): number | null {
  try {
    let ticks = 0;
    for (const e of Deno.readDirSync("/proc/self/task")) {
      if (e.name === String(Deno.pid)) continue;
      try {
        const comm = Deno.readTextFileSync(`/proc/self/task/${e.name}/comm`);
        if (comm.startsWith("V8 ") || comm.startsWith("tokio")) continue;
        const st = Deno.readTextFileSync(`/proc/self/task/${e.name}/stat`);
        const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
        ticks += Number(f[11]) + Number(f[12]); // utime, stime
      } catch {
        // The thread ended between the listing and the read.
      }
    }
    return ticks * 10;
  } catch {
    return null;
  }
}

const MAX_SUBMITS = 512;

/** Brackets every submit of one device with timestamp-writing passes while armed. */
class SubmitTimer {
  readonly #device: GPUDevice;
  readonly #queue: GPUQueue;
  readonly #submit: GPUQueue["submit"];
  readonly #set: GPUQuerySet;
  #slot = 0;
  #overflow = false;

  constructor(device: GPUDevice) {
    this.#device = device;
    this.#queue = device.queue;
    this.#submit = this.#queue.submit.bind(this.#queue);
    this.#set = device.createQuerySet({ type: "timestamp", count: 2 * MAX_SUBMITS });
  }

  #marker(begin: boolean): GPUCommandBuffer {
    const enc = this.#device.createCommandEncoder();
    const timestampWrites: GPUComputePassTimestampWrites = begin
      ? { querySet: this.#set, beginningOfPassWriteIndex: this.#slot++ }
      : { querySet: this.#set, endOfPassWriteIndex: this.#slot++ };
    enc.beginComputePass({ timestampWrites }).end();
    return enc.finish();
  }

  arm(): void {
    this.#slot = 0;
    this.#overflow = false;
    const submit = (buffers: Iterable<GPUCommandBuffer>) => {
      if (this.#slot + 2 > 2 * MAX_SUBMITS) {
        this.#overflow = true;
        return this.#submit(buffers);
      }
      return this.#submit([this.#marker(true), ...buffers, this.#marker(false)]);
    };
    // An own property shadows GPUQueue.prototype.submit for this queue only.
    Object.defineProperty(this.#queue, "submit", { value: submit, configurable: true });
  }

  /** Disarms and returns the summed spans in ms (null if more submits than slots). */
  async read(): Promise<number | null> {
    delete (this.#queue as unknown as Record<string, unknown>).submit;
    const n = this.#slot;
    if (this.#overflow) return null;
    if (n === 0) return 0;
    const resolve = this.#device.createBuffer({
      size: 8 * n,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const staging = this.#device.createBuffer({
      size: 8 * n,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const enc = this.#device.createCommandEncoder();
    enc.resolveQuerySet(this.#set, 0, n, resolve, 0);
    enc.copyBufferToBuffer(resolve, 0, staging, 0, 8 * n);
    this.#queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const t = new BigUint64Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    resolve.destroy();
    let ns = 0;
    for (let i = 0; i + 1 < n; i += 2) ns += Number(t[i + 1] - t[i]);
    return ns / 1e6;
  }
}

const timers = new WeakMap<GPUDevice, SubmitTimer>();

/**
 * Times `fn`, which must submit its GPU work to `opts.device` before it returns or resolves:
 * `warmup` untimed calls, then repetitions until `reps`, or until `budgetMs` is spent and
 * `minReps` are done. Each repetition waits for the queue to drain.
 */
export async function timeGpu(
  fn: () => unknown | Promise<unknown>,
  opts: TimeGpuOptions,
): Promise<Timing> {
  const { device, warmup = 1, reps = 5, minReps = 3, budgetMs = Infinity } = opts;
  const useTs = (opts.timestamps ?? true) && device.features.has("timestamp-query");
  let timer = timers.get(device);
  if (useTs && !timer) timers.set(device, timer = new SubmitTimer(device));
  for (let i = 0; i < warmup; i++) {
    await fn();
    await device.queue.onSubmittedWorkDone();
  }
  const ms: number[] = [];
  const wallMs: number[] = [];
  let method: TimingMethod = useTs ? "timestamp-query" : "wall-clock";
  let spent = 0;
  const cpu0 = workerCpuMs();
  while (ms.length < reps && (ms.length < minReps || spent < budgetMs)) {
    if (useTs) timer!.arm();
    const t0 = performance.now();
    try {
      await fn();
      await device.queue.onSubmittedWorkDone();
    } finally {
      const wall = performance.now() - t0;
      wallMs.push(wall);
      spent += wall;
      const gpu = useTs ? await timer!.read() : null;
      if (gpu === null) method = "wall-clock";
      ms.push(gpu ?? wall);
    }
  }
  const cpu1 = workerCpuMs();
  const workerCpu = cpu0 === null || cpu1 === null ? null : (cpu1 - cpu0) / ms.length;
  // A run that overflowed the timestamp slots reports wall clock throughout.
  const times = method === "wall-clock" ? wallMs : ms;
  return { method, ms: times, wallMs, workerCpuMs: workerCpu, ...summarize(times) };
}

/**
 * Joins timings of the same work taken in several calls (e.g. one repetition at a time,
 * interleaved with other libraries so that changing machine load hits all of them alike).
 */
export function mergeTimings(parts: readonly Timing[]): Timing {
  const method: TimingMethod = parts.every((t) => t.method === "timestamp-query")
    ? "timestamp-query"
    : "wall-clock";
  const wallMs = parts.flatMap((t) => t.wallMs);
  const ms = method === "wall-clock" ? wallMs : parts.flatMap((t) => t.ms);
  const cpu = parts.map((t) => t.workerCpuMs);
  const workerCpuMs = cpu.some((c) => c === null)
    ? null
    : cpu.reduce<number>((a, c, i) => a + c! * parts[i].ms.length, 0) / ms.length;
  return { method, ms, wallMs, workerCpuMs, ...summarize(ms) };
}

/** GFLOP/s of `flops` done in `ms` milliseconds. */
export function gflops(flops: number, ms: number): number {
  return flops / ms / 1e6;
}

/** A Markdown table (`align`: one of "l", "r" per column; default right for all but the first). */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align?: readonly ("l" | "r")[],
): string {
  const al = align ?? header.map((_, i) => (i === 0 ? "l" : "r"));
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [
    line(header),
    line(al.map((a) => (a === "l" ? ":--" : "--:"))),
    ...rows.map(line),
  ].join("\n");
}

/** 1-, 5- and 15-minute load averages (Linux), or null elsewhere. */
export function loadAverage(): number[] | null {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).map(Number);
  } catch {
    return null;
  }
}

/**
 * Writes `<base>.md` and `<base>.json` (creating the folder), then runs `deno fmt` on both so
 * that the repository's format check passes on committed results (skipped if that fails).
 */
export async function writeReport(base: string, markdown: string, data: unknown): Promise<void> {
  const dir = base.slice(0, base.lastIndexOf("/"));
  if (dir) await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${base}.md`, markdown.endsWith("\n") ? markdown : markdown + "\n");
  await Deno.writeTextFile(`${base}.json`, JSON.stringify(data, null, 2) + "\n");
  // Absolute paths: fmt runs in the report's folder (to find its config), not in ours.
  const abs = base.startsWith("/") ? base : `${Deno.cwd()}/${base}`;
  try {
    await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--quiet", `${abs}.md`, `${abs}.json`],
      // Config (line width…) is found from the working directory: use the report's own.
      cwd: dir || ".",
      stdout: "null",
      stderr: "null",
    }).output();
  } catch {
    // Not fatal: the report is written, only unformatted.
  }
}
