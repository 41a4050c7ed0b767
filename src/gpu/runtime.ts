/**
 * The runtime: records kernel dispatches into one shared command encoder and submits them
 * in batches; reads results back in one staging buffer; surfaces device loss and uncaptured
 * errors as rejections instead of hangs.
 * @module
 */

import { type AcquiredDevice, acquireDevice, type DeviceOptions } from "./device.ts";
import { BufferPool, type PooledBuffer, type PoolStats } from "./pool.ts";
import type { Profiler } from "./profiler.ts";
import {
  type Defines,
  type DefineTypes,
  type DefineValues,
  kernel,
  kernelSource,
  type KernelSpec,
  packUniforms,
  type ParamsBinding,
  uniformBytes,
  type UniformTypes,
  type UniformValues,
} from "./kernel.ts";
import * as coreWgsl from "../../shaders/core/wgsl.ts";

const MAX_WG = 65535;
/** Dispatches recorded before the runtime submits on its own. */
const MAX_BATCH_DISPATCHES = 2048;
const ARENA_BYTES = 1 << 20;

const checkFinite = /* @__PURE__ */ kernel({
  name: "check_finite",
  source: coreWgsl.check_finite,
  bindings: { x: "f32", flags: "atomic<u32> rw" },
  uniforms: { n: "u32", slot: "u32" },
  workgroupSize: [256],
});
const MAX_WATCHED = 16384;

/**
 * WebGPU forbids binding a buffer as writable storage together with any other binding of the
 * same buffer in one dispatch. Dawn (Chrome) rejects the command buffer; wgpu (Deno) does not
 * check, so the runtime does, for every new bind group.
 */
function checkAliasing(spec: KernelSpec, buffers: Readonly<Record<string, PooledBuffer>>): void {
  const types: Readonly<Record<string, string>> = spec.bindings;
  const seen = new Map<PooledBuffer, string>();
  for (const [n, t] of Object.entries(types)) {
    const first = seen.get(buffers[n]);
    if (first === undefined) seen.set(buffers[n], n);
    else if (t.endsWith("rw") || types[first].endsWith("rw")) {
      throw new Error(
        `wgrec ${spec.name}: one buffer is bound to '${first}' and '${n}', and one of them is ` +
          `writable; WebGPU forbids that aliasing (Chrome rejects it)`,
      );
    }
  }
}

/**
 * A dispatch's arguments, typed by its spec: every binding and uniform the spec declares (and
 * no other), and its defines (required when it declares any).
 */
export type DispatchArgs<
  B extends string = string,
  U extends UniformTypes = UniformTypes,
  D extends DefineTypes = DefineTypes,
> = {
  /** Storage buffers by binding name. */
  readonly buffers: Readonly<Record<B, PooledBuffer>>;
  /** Uniform values by field name. */
  readonly uniforms: UniformValues<U>;
  /** Workgroup counts. A 1-D count above 65535 is folded into (x, y); see `linear_id`. */
  readonly workgroups: readonly [number, number?, number?];
} & DefinesArg<D>;

/**
 * The `defines` member of {@link DispatchArgs}: required and typed for a spec that declares
 * defines, absent for one that declares none, any for an untyped (widened) spec.
 */
export type DefinesArg<D extends DefineTypes> = string extends keyof D ? {
    /** Compile-time constants (part of the pipeline cache key). */
    readonly defines?: Defines;
  }
  : keyof D extends never ? {
      /** The spec declares no defines. */
      readonly defines?: { readonly [k: string]: never };
    }
  : {
    /** Compile-time constants (part of the pipeline cache key). */
    readonly defines: DefineValues<D>;
  };

/** A spec and the defines of one of its pipelines, for {@link Runtime.precompile}. */
export type PipelineKey = KernelSpec | readonly [KernelSpec, Defines];

/** A spec's pipeline: of that spec with those defines, typed by the spec (see `precompile`). */
export function variant<B extends string, U extends UniformTypes, D extends DefineTypes>(
  spec: KernelSpec<B, U, D>,
  defines: NoInfer<DefineValues<D>>,
): PipelineKey {
  return [spec, defines];
}

interface PipelineSlot {
  hit: GPUComputePipeline | undefined;
  bySpec: Map<string, GPUComputePipeline>;
  dkey: string;
  code: string;
}

/** Runtime statistics (cumulative). */
export interface RuntimeStats {
  /** Command buffers submitted. */
  submits: number;
  /** Kernel dispatches recorded. */
  dispatches: number;
  /** Pipelines compiled. */
  pipelines: number;
  /** Dispatches that reused a cached bind group. */
  bindGroupHits: number;
  /** Bind groups created. */
  bindGroupMisses: number;
}

/** Options of {@link Runtime.create}. */
export interface RuntimeOptions extends DeviceOptions {
  /**
   * Where kernels read their parameters (see {@link ParamsBinding}); default `"uniform"`.
   * `"storage"` avoids lavapipe's per-dispatch uniform inlining (a loop of small linears:
   * 29.5 → 0.6 ms per dispatch) at the cost of one more storage binding per kernel and ~17 %
   * more cold pipeline-compile time; whole training steps measured no faster
   * (bench/results/params_binding.md), so it is opt-in.
   */
  params?: ParamsBinding;
}

/** The WebGPU runtime. Create it with {@link Runtime.create}. */
export class Runtime {
  /** The buffer pool of this device. */
  readonly pool: BufferPool;
  /** Cumulative counters. */
  readonly stats: RuntimeStats = {
    submits: 0,
    dispatches: 0,
    pipelines: 0,
    bindGroupHits: 0,
    bindGroupMisses: 0,
  };
  /** Number of the batch being recorded; buffers bound in it carry it in `lastBatch`. */
  batch = 0;
  /** Set once the device is lost; every later call throws it. */
  lostReason: string | null = null;
  /** Resolves when the device is lost (never rejects). */
  readonly lost: Promise<string>;

  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #pending = 0;
  #pipelines = new Map<string, GPUComputePipeline>();
  #capture: [KernelSpec, Defines][] | null = null;
  #bySpec = new WeakMap<KernelSpec, Map<string, GPUComputePipeline>>();
  #layouts = new Map<string, GPUBindGroupLayout>();
  #bindGroups = new Map<string, GPUBindGroup>();
  #arena: GPUBuffer;
  #arenaId = 0;
  #arenaCpu = new ArrayBuffer(ARENA_BYTES);
  #arenaView = new DataView(this.#arenaCpu);
  #arenaUsed = 0;
  #afterSubmit: (() => void)[] = [];
  #errors: string[] = [];
  #uniformAlign: number;
  /** Where kernels read their `Params` block on this runtime. */
  readonly params: ParamsBinding;
  /** Numerics-check mode (see `InitOptions.checkNumerics`). */
  checkNumerics = false;
  /** The attached profiler (src/gpu/profiler.ts); null (the default) costs one check. */
  profiler: Profiler | null = null;
  #flags: PooledBuffer | null = null;
  #watched: string[] = [];
  // The first flagged op of the full flag windows read back so far (null: none); see `watch`.
  // A failed read (device loss) resolves to its error, rethrown by the next check.
  #windows: Promise<{ label: string; at: number } | Error | null> | null = null;
  #checkedBefore = 0;

  /** Use {@link Runtime.create}. */
  private constructor(readonly gpu: AcquiredDevice, params?: ParamsBinding) {
    const device = gpu.device;
    const lim = device.limits;
    this.pool = new BufferPool(device, lim.maxStorageBufferBindingSize);
    this.params = params ?? "uniform";
    this.#uniformAlign = this.params === "uniform"
      ? lim.minUniformBufferOffsetAlignment
      : lim.minStorageBufferOffsetAlignment;
    this.#arena = this.#newArena();
    this.lost = device.lost.then((info) => {
      this.lostReason = `${info.reason ?? "unknown"}: ${info.message}`;
      return this.lostReason;
    });
    device.addEventListener("uncapturederror", (e) => {
      this.#errors.push((e as GPUUncapturedErrorEvent).error.message);
    });
  }

  /** Acquires a device and builds a runtime on it. */
  static async create(opts: RuntimeOptions = {}): Promise<Runtime> {
    return new Runtime(await acquireDevice(opts), opts.params);
  }

  /** The WebGPU device. */
  get device(): GPUDevice {
    return this.gpu.device;
  }

  #newArena(): GPUBuffer {
    this.#arenaId++;
    return this.device.createBuffer({
      size: ARENA_BYTES,
      usage: (this.params === "uniform" ? GPUBufferUsage.UNIFORM : GPUBufferUsage.STORAGE) |
        GPUBufferUsage.COPY_DST,
    });
  }

  /** Throws if the device was lost or reported an uncaptured error. */
  assertHealthy(): void {
    if (this.lostReason) throw new Error(`wgrec: the GPU device was lost (${this.lostReason})`);
    if (this.#errors.length) {
      const msg = this.#errors.splice(0).join("\n");
      throw new Error(`wgrec: WebGPU reported an error: ${msg}`);
    }
  }

  #layout(spec: KernelSpec): GPUBindGroupLayout {
    const key = Object.values(spec.bindings).join(",");
    let layout = this.#layouts.get(key);
    if (!layout) {
      const n = Object.keys(spec.bindings).length + (this.params === "storage" ? 1 : 0);
      const max = this.device.limits.maxStorageBuffersPerShaderStage;
      if (n > max) {
        throw new Error(
          `wgrec ${spec.name}: the kernel binds ${n} storage buffers, this device allows ${max} ` +
            `per shader stage`,
        );
      }
      const entries: GPUBindGroupLayoutEntry[] = [
        // Dynamic offset: one bind group serves every slot of the uniform arena.
        {
          binding: 0,
          visibility: GPUShaderStage.COMPUTE,
          buffer: {
            type: this.params === "uniform" ? "uniform" : "read-only-storage",
            hasDynamicOffset: true,
          },
        },
      ];
      Object.values<string>(spec.bindings).forEach((t, i) =>
        entries.push({
          binding: i + 1,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: t.endsWith("rw") ? "storage" : "read-only-storage" },
        })
      );
      layout = this.device.createBindGroupLayout({ entries });
      this.#layouts.set(key, layout);
    }
    return layout;
  }

  /**
   * The pipeline for a spec and defines, cached by its full source text. A per-spec map keyed
   * by the defines sits in front, so a dispatch does not rebuild the source to look it up.
   */
  pipeline(spec: KernelSpec, defines: Defines = {}): GPUComputePipeline {
    const at = this.#lookup(spec, defines);
    if (at.hit) return at.hit;
    const p = this.device.createComputePipeline(this.#descriptor(spec, at.code));
    this.#store(at, p);
    return p;
  }

  /**
   * Compiles pipelines ahead of their first dispatch with `createComputePipelineAsync`, all
   * requests in flight at once (browsers compile them on worker threads, off the page's main
   * thread), and caches them as {@link pipeline} would. An entry is a spec (one that declares
   * no defines) or `[spec, defines]`; cached ones are skipped. Resolves to the number compiled;
   * rejects naming the first kernel that fails.
   */
  async precompile(keys: readonly PipelineKey[]): Promise<number> {
    this.assertHealthy();
    const pending = new Map<string, Promise<void>>();
    for (const key of keys) {
      const [spec, defines] = Array.isArray(key) ? key : [key as KernelSpec, {}];
      const at = this.#lookup(spec, defines);
      if (at.hit || pending.has(at.code)) continue;
      // An error scope per kernel: Deno's wgpu reports a bad shader as a validation error and
      // resolves the pipeline, browsers reject it; both end as an error naming the kernel.
      this.device.pushErrorScope("validation");
      const compiled = this.device.createComputePipelineAsync(this.#descriptor(spec, at.code));
      const scope = this.device.popErrorScope();
      pending.set(
        at.code,
        Promise.all([compiled, scope]).then(
          ([p, err]) => {
            if (err) throw new Error(err.message);
            this.#store(at, p);
          },
        ).catch((e) => {
          throw new Error(`wgrec ${spec.name}: the pipeline does not compile: ${e?.message ?? e}`);
        }),
      );
    }
    await this.#guard(Promise.all(pending.values()), "precompile");
    this.assertHealthy();
    return pending.size;
  }

  /**
   * Runs `fn` with dispatches recorded but not run, and returns the pipelines it would use
   * (one entry per distinct spec and defines), for {@link precompile}: a model that knows one
   * step's ops (a training step, a scoring pass) compiles all their pipelines up front. Nothing
   * `fn` dispatches executes, so it changes no values (uploads, copies and clears still do); its
   * results are garbage, and it must not read them back. Gradients its `backward` allocates are
   * left unwritten: zero them (`zeroGrad()`) before the real step, whose first backward would
   * otherwise accumulate into them (and use an accumulate pipeline not captured).
   */
  capturePipelines(fn: () => void): PipelineKey[] {
    if (this.#capture) throw new Error("wgrec capturePipelines: already capturing");
    const seen: [KernelSpec, Defines][] = [];
    this.#capture = seen;
    try {
      fn();
    } finally {
      this.#capture = null;
    }
    const keys = new Map<string, PipelineKey>();
    const ids = new Map<KernelSpec, number>();
    for (const [spec, defines] of seen) {
      if (!ids.has(spec)) ids.set(spec, ids.size);
      let key = `${ids.get(spec)}|`;
      for (const k in defines) key += `${k}=${defines[k]};`;
      if (!keys.has(key)) keys.set(key, [spec, defines]);
    }
    return [...keys.values()];
  }

  #lookup(spec: KernelSpec, defines: Defines): PipelineSlot {
    let bySpec = this.#bySpec.get(spec);
    if (!bySpec) this.#bySpec.set(spec, bySpec = new Map());
    let dkey = "";
    for (const k in defines) dkey += `${k}=${defines[k]};`;
    const hit = bySpec.get(dkey);
    if (hit) return { hit, bySpec, dkey, code: "" };
    const code = kernelSource(spec, defines, this.params);
    const shared = this.#pipelines.get(code);
    if (shared) bySpec.set(dkey, shared);
    return { hit: shared, bySpec, dkey, code };
  }

  #descriptor(spec: KernelSpec, code: string): GPUComputePipelineDescriptor {
    const module = this.device.createShaderModule({ code, label: spec.name });
    return {
      label: spec.name,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [this.#layout(spec)] }),
      compute: { module, entryPoint: "main" },
    };
  }

  #store(at: PipelineSlot, p: GPUComputePipeline): void {
    // A dispatch may have compiled the same source while an async compile was in flight.
    const won = this.#pipelines.get(at.code) ?? p;
    if (won === p) {
      this.#pipelines.set(at.code, p);
      this.stats.pipelines++;
    }
    at.bySpec.set(at.dkey, won);
  }

  #ensurePass(): GPUComputePassEncoder {
    if (!this.#encoder) this.#encoder = this.device.createCommandEncoder();
    if (!this.#pass) this.#pass = this.#encoder.beginComputePass();
    return this.#pass;
  }

  #ensureEncoder(): GPUCommandEncoder {
    if (this.#pass) {
      this.#pass.end();
      this.#pass = null;
    }
    if (!this.#encoder) this.#encoder = this.device.createCommandEncoder();
    return this.#encoder;
  }

  /**
   * Records one dispatch of `spec`. Nothing runs until the batch is submitted. The arguments are
   * typed by the spec (`NoInfer`: the spec alone fixes the names, so a misspelt one is an error).
   */
  dispatch<B extends string, U extends UniformTypes, D extends DefineTypes>(
    spec: KernelSpec<B, U, D>,
    typedArgs: NoInfer<DispatchArgs<B, U, D>>,
  ): void {
    const args = typedArgs as unknown as DispatchArgs & { readonly defines?: Defines };
    this.assertHealthy();
    if (this.#capture) {
      this.#capture.push([spec, args.defines ?? {}]);
      return;
    }
    const ub = uniformBytes(spec);
    const slot = Math.ceil(ub / this.#uniformAlign) * this.#uniformAlign;
    if (this.#arenaUsed + slot > ARENA_BYTES || this.#pending >= MAX_BATCH_DISPATCHES) {
      this.flush();
    }
    const offset = this.#arenaUsed;
    packUniforms(spec, args.uniforms, this.#arenaView, offset);
    this.#arenaUsed += slot;

    const pipeline = this.pipeline(spec, args.defines);
    const names = Object.keys(spec.bindings);
    // Layouts are explicit and shared, so a bind group serves every pipeline of its layout.
    let key = `${Object.values(spec.bindings).join(",")}|${this.#arenaId}:${ub}`;
    for (const n of names) {
      const b = args.buffers[n];
      if (!b) throw new Error(`wgrec ${spec.name}: binding '${n}' not given`);
      b.lastBatch = this.batch;
      key += `|${b.id}`;
    }
    let bg = this.#bindGroups.get(key);
    if (bg) this.stats.bindGroupHits++;
    else {
      checkAliasing(spec, args.buffers);
      this.stats.bindGroupMisses++;
      if (this.#bindGroups.size > 8192) this.#bindGroups.clear();
      const entries: GPUBindGroupEntry[] = [
        { binding: 0, resource: { buffer: this.#arena, offset: 0, size: ub } },
      ];
      names.forEach((n, i) =>
        entries.push({ binding: i + 1, resource: { buffer: args.buffers[n].buffer } })
      );
      bg = this.device.createBindGroup({ layout: this.#layout(spec), entries });
      this.#bindGroups.set(key, bg);
    }

    let [x, y = 1, z = 1] = args.workgroups;
    if (x > MAX_WG && y === 1 && z === 1) {
      y = Math.ceil(x / MAX_WG);
      x = Math.ceil(x / y);
    }
    if (x === 0 || y === 0 || z === 0) return;
    if (x > MAX_WG || y > MAX_WG || z > MAX_WG) {
      throw new Error(`wgrec ${spec.name}: launch of [${x}, ${y}, ${z}] workgroups is too large`);
    }
    const pass = this.profiler ? this.#profiledPass(spec, args) : this.#ensurePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bg, [offset]);
    pass.dispatchWorkgroups(x, y, z);
    if (this.profiler) this.#ensureEncoder(); // ends the dispatch's own pass
    this.#pending++;
    this.stats.dispatches++;
  }

  // Profiling: each dispatch in its own pass, timestamped where the device can.
  #profiledPass(spec: KernelSpec, args: DispatchArgs): GPUComputePassEncoder {
    const enc = this.#ensureEncoder();
    const tw = this.profiler!.onDispatch(spec, args.buffers);
    return this.#pass = enc.beginComputePass(tw ? { timestampWrites: tw } : undefined);
  }

  /**
   * Writes host data into a pooled buffer, ordered after everything recorded so far. A buffer
   * already bound in the pending batch is filled through a staging copy recorded into the
   * encoder (a `writeBuffer` would land before that pending work and corrupt it).
   */
  upload(b: PooledBuffer, data: ArrayBufferView, byteOffset = 0): void {
    this.assertHealthy();
    const bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    if (bytes.byteLength === 0) return;
    this.profiler?.onUpload(bytes.byteLength);
    const size = Math.ceil(bytes.byteLength / 4) * 4;
    if (b.lastBatch !== this.batch) {
      if (size === bytes.byteLength) this.device.queue.writeBuffer(b.buffer, byteOffset, bytes);
      else {
        const padded = new Uint8Array(size);
        padded.set(bytes);
        this.device.queue.writeBuffer(b.buffer, byteOffset, padded);
      }
      return;
    }
    const staging = this.device.createBuffer({
      size,
      usage: GPUBufferUsage.COPY_SRC,
      mappedAtCreation: true,
    });
    new Uint8Array(staging.getMappedRange()).set(bytes);
    staging.unmap();
    this.#ensureEncoder().copyBufferToBuffer(staging, 0, b.buffer, byteOffset, size);
    this.#afterSubmit.push(() => staging.destroy());
    this.#pending++;
  }

  /** Records a buffer-to-buffer copy. */
  copy(src: PooledBuffer, srcOffset: number, dst: PooledBuffer, dstOffset: number, size: number) {
    if (size === 0) return;
    src.lastBatch = this.batch;
    dst.lastBatch = this.batch;
    this.#ensureEncoder().copyBufferToBuffer(src.buffer, srcOffset, dst.buffer, dstOffset, size);
    this.#pending++;
  }

  /** Records a zero fill of the first `bytes` bytes of a buffer. */
  clear(b: PooledBuffer, bytes: number): void {
    const size = Math.ceil(bytes / 4) * 4;
    if (size === 0) return;
    b.lastBatch = this.batch;
    this.#ensureEncoder().clearBuffer(b.buffer, 0, size);
    this.#pending++;
  }

  /**
   * Numerics-check mode: records a scan of `n` f32 values of `b` for NaN/Inf, labelled with
   * the op that wrote them. {@link checkNumericsNow} reports the first flagged label.
   */
  watch(b: PooledBuffer, n: number, label: string): void {
    if (!this.checkNumerics || n === 0) return;
    if (!this.#flags) {
      this.#flags = this.pool.acquire(MAX_WATCHED * 4, "checkNumerics");
      this.clear(this.#flags, MAX_WATCHED * 4);
    }
    if (this.#watched.length >= MAX_WATCHED) this.#rotateWatch();
    const slot = this.#watched.length;
    this.#watched.push(label);
    this.dispatch(checkFinite, {
      buffers: { x: b, flags: this.#flags },
      uniforms: { n, slot },
      workgroups: [Math.ceil(n / 256)],
    });
  }

  /**
   * The flag window is full: start reading it back (the copy is ordered before the clear that
   * follows), examine it when the read lands, and reuse the buffer. The host keeps at most the
   * windows whose reads are still in flight, so the watch never stops and stays bounded.
   */
  #rotateWatch(): void {
    const labels = this.#watched.splice(0);
    const offset = this.#checkedBefore;
    this.#checkedBefore += labels.length;
    const read = this.readBuffers([{ buffer: this.#flags!, bytes: labels.length * 4 }]);
    this.clear(this.#flags!, labels.length * 4);
    const window = read.then(
      ([buf]) => {
        const first = new Uint32Array(buf).findIndex((x) => x !== 0);
        return first < 0 ? null : { label: labels[first], at: offset + first };
      },
      (e) => (e instanceof Error ? e : new Error(String(e))),
    );
    // One chain, so resolved windows are released: earlier windows win.
    const prev = this.#windows;
    this.#windows = prev ? prev.then(async (p) => p ?? await window) : window;
  }

  /** Reads the numerics flags; throws naming the first op that produced NaN/Inf. */
  async checkNumericsNow(): Promise<void> {
    const windows = this.#windows;
    this.#windows = null;
    const labels = this.#watched.splice(0);
    const offset = this.#checkedBefore;
    const total = offset + labels.length;
    this.#checkedBefore = 0;
    const early = windows ? await windows : null;
    if (early instanceof Error) throw early;
    let bad = early;
    if (this.#flags && labels.length > 0) {
      const flags = this.#flags;
      const [buf] = await this.readBuffers([{ buffer: flags, bytes: labels.length * 4 }]);
      this.clear(flags, labels.length * 4);
      const first = new Uint32Array(buf).findIndex((x) => x !== 0);
      if (first >= 0) bad ??= { label: labels[first], at: offset + first };
    }
    if (bad) {
      throw new Error(
        `wgrec numerics: op ${bad.label} produced a NaN or Inf (op ${bad.at + 1} of ${total} ` +
          `checked since the last check)`,
      );
    }
  }

  /** Submits everything recorded so far (no-op when nothing is pending). */
  flush(): void {
    this.assertHealthy();
    if (!this.#encoder) return;
    if (this.#pass) {
      this.#pass.end();
      this.#pass = null;
    }
    if (this.#arenaUsed > 0) {
      this.device.queue.writeBuffer(this.#arena, 0, this.#arenaCpu, 0, this.#arenaUsed);
    }
    this.profiler?.beforeSubmit(this.#encoder);
    this.device.queue.submit([this.#encoder.finish()]);
    this.profiler?.afterSubmit();
    this.#encoder = null;
    this.#arenaUsed = 0;
    this.#pending = 0;
    this.batch++;
    this.stats.submits++;
    for (const f of this.#afterSubmit.splice(0)) f();
  }

  /** Waits for the GPU to finish all submitted work (rejects on device loss). */
  async sync(): Promise<void> {
    this.flush();
    await this.#guard(this.device.queue.onSubmittedWorkDone(), "sync");
    this.assertHealthy();
  }

  async #guard<T>(p: Promise<T>, what: string): Promise<T> {
    const lost = this.lost.then((r) => {
      throw new Error(`wgrec ${what}: the GPU device was lost (${r})`);
    });
    return await Promise.race([p, lost]);
  }

  /**
   * Reads byte ranges of several buffers back with one staging buffer and one map.
   * Returns one ArrayBuffer per range.
   */
  async readBuffers(
    ranges: readonly { buffer: PooledBuffer; bytes: number }[],
  ): Promise<ArrayBuffer[]> {
    this.assertHealthy();
    const offsets: number[] = [];
    let total = 0;
    for (const r of ranges) {
      offsets.push(total);
      total += Math.ceil(r.bytes / 4) * 4;
    }
    if (total === 0) return ranges.map(() => new ArrayBuffer(0));
    this.profiler?.onReadback(total);
    const staging = this.device.createBuffer({
      size: total,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const enc = this.#ensureEncoder();
    ranges.forEach((r, i) => {
      const size = Math.ceil(r.bytes / 4) * 4;
      if (size) enc.copyBufferToBuffer(r.buffer.buffer, 0, staging, offsets[i], size);
    });
    this.flush();
    try {
      await this.#guard(staging.mapAsync(GPUMapMode.READ), "read");
      this.assertHealthy();
      const all = staging.getMappedRange().slice(0);
      staging.unmap();
      return ranges.map((r, i) => all.slice(offsets[i], offsets[i] + r.bytes));
    } finally {
      if (!this.lostReason) staging.destroy();
    }
  }

  /** Pool statistics. */
  memory(): PoolStats {
    return this.pool.stats();
  }

  /** Frees pooled buffers (and the bind groups that name them). */
  trim(): void {
    this.flush();
    this.pool.trim();
    this.#bindGroups.clear();
  }
}
