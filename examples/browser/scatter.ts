/**
 * The 3-D scatter: one shaded disc per point, drawn with a WebGPU render pipeline straight from
 * a GPU buffer of `[n, 3]` f32 coordinates (the projection tensor's own storage buffer: no
 * readback). Camera matrices come from wgpu-matrix; dragging orbits the camera, the wheel
 * zooms. Frames are drawn on demand (after a drag or new data), not continuously.
 *
 * Two ways to put a frame on screen: a WebGPU canvas context ("canvas"), or rendering into a
 * texture that is read back and painted on a 2-D canvas ("readback"). Some browsers expose
 * WebGPU but cannot present it (headless Chromium with SwiftShader fails to create the swap
 * chain's shared image and loses every device of the page); {@link canvasPresentationWorks}
 * finds that out on a throwaway device before the page creates the one it trains on.
 * @module
 */

import { mat4 } from "npm:wgpu-matrix@3";

const SHADER = /* wgsl */ `
struct Cam { viewProj: mat4x4f, viewport: vec2f, pointPx: f32, scale: f32 }
@group(0) @binding(0) var<uniform> cam: Cam;
@group(0) @binding(1) var<storage, read> pos: array<f32>;
@group(0) @binding(2) var<storage, read> col: array<vec4f>;

struct Point { @builtin(position) p: vec4f, @location(0) uv: vec2f, @location(1) c: vec3f }

@vertex fn vsPoint(@builtin(vertex_index) v: u32, @builtin(instance_index) i: u32) -> Point {
  var corners = array<vec2f, 6>(vec2f(-1, -1), vec2f(1, -1), vec2f(-1, 1),
                                vec2f(-1, 1), vec2f(1, -1), vec2f(1, 1));
  let world = vec3f(pos[3u * i], pos[3u * i + 1u], pos[3u * i + 2u]) * cam.scale;
  var clip = cam.viewProj * vec4f(world, 1.0);
  let corner = corners[v];
  // A fixed size in pixels: offset in normalised device coordinates, times w.
  clip = vec4f(clip.xy + corner * cam.pointPx / cam.viewport * 2.0 * clip.w, clip.zw);
  var o: Point;
  o.p = clip;
  o.uv = corner;
  o.c = col[i].rgb;
  return o;
}

@fragment fn fsPoint(in: Point) -> @location(0) vec4f {
  let r2 = dot(in.uv, in.uv);
  if (r2 > 1.0) { discard; }
  let shade = 0.45 + 0.55 * sqrt(1.0 - r2);
  return vec4f(in.c * shade, 1.0);
}

struct Line { @builtin(position) p: vec4f, @location(0) c: vec3f }

@vertex fn vsLine(@location(0) p: vec3f, @location(1) c: vec3f) -> Line {
  var o: Line;
  o.p = cam.viewProj * vec4f(p, 1.0);
  o.c = c;
  return o;
}

@fragment fn fsLine(in: Line) -> @location(0) vec4f { return vec4f(in.c, 1.0); }
`;

/** Axes from the origin: x red, y green, z blue (muted), 1.3 long. */
const AXES = new Float32Array([
  ...[0, 0, 0, 0.8, 0.35, 0.35, 1.3, 0, 0, 0.8, 0.35, 0.35],
  ...[0, 0, 0, 0.35, 0.75, 0.4, 0, 1.3, 0, 0.35, 0.75, 0.4],
  ...[0, 0, 0, 0.4, 0.55, 0.9, 0, 0, 1.3, 0.4, 0.55, 0.9],
]);

/**
 * Whether a WebGPU canvas can present frames here: draws one frame into a hidden canvas with a
 * throwaway device and checks that the device survived. Call it before creating the devices
 * the page keeps (a failed presentation can take every device of the page down with it).
 */
export async function canvasPresentationWorks(): Promise<boolean> {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return false;
  const device = await adapter.requestDevice();
  let lost = false;
  device.lost.then(() => (lost = true));
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 8;
  canvas.style.cssText = "position:fixed;left:0;top:0;width:8px;height:8px;opacity:0;" +
    "pointer-events:none";
  document.body.append(canvas);
  try {
    const ctx = canvas.getContext("webgpu") as GPUCanvasContext | null;
    if (!ctx) return false;
    ctx.configure({
      device,
      format: navigator.gpu.getPreferredCanvasFormat(),
      alphaMode: "opaque",
    });
    const enc = device.createCommandEncoder();
    enc.beginRenderPass({
      colorAttachments: [{
        view: ctx.getCurrentTexture().createView(),
        clearValue: { r: 0, g: 0, b: 0, a: 1 },
        loadOp: "clear",
        storeOp: "store",
      }],
    }).end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone().catch(() => {});
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    await new Promise((r) => setTimeout(r, 100));
    return !lost;
  } catch {
    return false;
  } finally {
    canvas.remove();
    if (!lost) device.destroy();
  }
}

/** How frames reach the screen (see the module description). */
export type Presentation = "canvas" | "readback";

/** A WebGPU scatter plot on a canvas. */
export class Scatter {
  readonly #device: GPUDevice;
  readonly #ctx: GPUCanvasContext | null = null;
  readonly #ctx2d: CanvasRenderingContext2D | null = null;
  readonly #format: GPUTextureFormat;
  #target: GPUTexture | null = null;
  #readback: GPUBuffer | null = null;
  #busy = false;
  #again = false;
  readonly #points: GPURenderPipeline;
  readonly #lines: GPURenderPipeline;
  readonly #uniform: GPUBuffer;
  readonly #axes: GPUBuffer;
  readonly #lineGroup: GPUBindGroup;
  #pointGroup: GPUBindGroup | null = null;
  #colors: GPUBuffer | null = null;
  #count = 0;
  #scale = 1;
  #depth: GPUTexture | null = null;
  #yaw = 0.7;
  #pitch = 0.45;
  #distance = 4;
  #queued = false;
  /** Frames drawn (tests and the status line read it). */
  frames = 0;

  /** A scatter on `canvas`, drawing with `device`, presented as `presentation` says. */
  constructor(
    readonly canvas: HTMLCanvasElement,
    device: GPUDevice,
    readonly presentation: Presentation = "canvas",
  ) {
    this.#device = device;
    if (presentation === "canvas") {
      const ctx = canvas.getContext("webgpu") as GPUCanvasContext | null;
      if (!ctx) throw new Error("the canvas has no WebGPU context");
      this.#ctx = ctx;
      this.#format = navigator.gpu.getPreferredCanvasFormat();
      ctx.configure({ device, format: this.#format, alphaMode: "opaque" });
    } else {
      const ctx = canvas.getContext("2d");
      if (!ctx) throw new Error("the canvas has no 2-D context");
      this.#ctx2d = ctx;
      this.#format = "rgba8unorm"; // the byte order of ImageData
    }
    const module = device.createShaderModule({ code: SHADER, label: "scatter" });
    const depthStencil: GPUDepthStencilState = {
      format: "depth24plus",
      depthWriteEnabled: true,
      depthCompare: "less",
    };
    this.#points = device.createRenderPipeline({
      label: "scatter points",
      layout: "auto",
      vertex: { module, entryPoint: "vsPoint" },
      fragment: { module, entryPoint: "fsPoint", targets: [{ format: this.#format }] },
      primitive: { topology: "triangle-list" },
      depthStencil,
    });
    this.#lines = device.createRenderPipeline({
      label: "scatter axes",
      layout: "auto",
      vertex: {
        module,
        entryPoint: "vsLine",
        buffers: [{
          arrayStride: 24,
          attributes: [
            { shaderLocation: 0, offset: 0, format: "float32x3" },
            { shaderLocation: 1, offset: 12, format: "float32x3" },
          ],
        }],
      },
      fragment: { module, entryPoint: "fsLine", targets: [{ format: this.#format }] },
      primitive: { topology: "line-list" },
      depthStencil,
    });
    this.#uniform = device.createBuffer({
      size: 80,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.#axes = device.createBuffer({
      size: AXES.byteLength,
      usage: GPUBufferUsage.VERTEX | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(this.#axes, 0, AXES);
    this.#lineGroup = device.createBindGroup({
      layout: this.#lines.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: this.#uniform } }],
    });
    this.#listen();
    new ResizeObserver(() => this.requestDraw()).observe(canvas);
  }

  /**
   * Points to draw: `positions` holds `count × 3` f32 (read in place every frame, so keep it
   * alive and unchanged until the next call), `colors` one RGB triple per point, `scale`
   * multiplies the coordinates (about 1/spread puts the cloud in the unit cube).
   */
  setPoints(positions: GPUBuffer, count: number, colors: Float32Array, scale: number): void {
    if (colors.length !== 3 * count) {
      throw new Error(`scatter: ${colors.length / 3} colours for ${count} points`);
    }
    const rgba = new Float32Array(4 * Math.max(1, count));
    for (let i = 0; i < count; i++) rgba.set(colors.subarray(3 * i, 3 * i + 3), 4 * i);
    if (!this.#colors || this.#colors.size < rgba.byteLength) {
      this.#colors?.destroy();
      this.#colors = this.#device.createBuffer({
        size: rgba.byteLength,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      });
    }
    this.#device.queue.writeBuffer(this.#colors, 0, rgba);
    this.#pointGroup = this.#device.createBindGroup({
      layout: this.#points.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: this.#uniform } },
        { binding: 1, resource: { buffer: positions } },
        { binding: 2, resource: { buffer: this.#colors } },
      ],
    });
    this.#count = count;
    this.#scale = scale;
    this.requestDraw();
  }

  /** Draws at the next animation frame (several requests make one frame). */
  requestDraw(): void {
    if (this.#queued) return;
    this.#queued = true;
    requestAnimationFrame(() => {
      this.#queued = false;
      this.draw();
    });
  }

  /** Draws a frame now (in readback mode, as soon as the previous frame is on screen). */
  draw(): void {
    if (this.presentation === "canvas") {
      const [w, h] = this.#resize();
      this.#encode(this.#ctx!.getCurrentTexture(), w, h);
      this.frames++;
    } else if (this.#busy) this.#again = true;
    else this.#drawReadback().catch((e) => console.error("scatter:", e));
  }

  async #drawReadback(): Promise<void> {
    this.#busy = true;
    try {
      do {
        this.#again = false;
        const [w, h] = this.#resize();
        const stride = Math.ceil((4 * w) / 256) * 256;
        const enc = this.#encode(this.#target!, w, h, false);
        enc.copyTextureToBuffer(
          { texture: this.#target! },
          { buffer: this.#readback!, bytesPerRow: stride },
          [w, h],
        );
        this.#device.queue.submit([enc.finish()]);
        const buf = this.#readback!;
        await buf.mapAsync(GPUMapMode.READ);
        const src = new Uint8Array(buf.getMappedRange());
        const img = new ImageData(w, h);
        for (let y = 0; y < h; y++) {
          img.data.set(src.subarray(y * stride, y * stride + 4 * w), 4 * y * w);
        }
        buf.unmap();
        this.#ctx2d!.putImageData(img, 0, 0);
        this.frames++;
      } while (this.#again);
    } finally {
      this.#busy = false;
    }
  }

  /** Sizes the canvas and the attachments to the element's size; returns [width, height]. */
  #resize(): [number, number] {
    const dpr = globalThis.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(this.canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(this.canvas.clientHeight * dpr));
    if (this.canvas.width !== w || this.canvas.height !== h || !this.#depth) {
      this.canvas.width = w;
      this.canvas.height = h;
      this.#depth?.destroy();
      this.#depth = this.#device.createTexture({
        size: [w, h],
        format: "depth24plus",
        usage: GPUTextureUsage.RENDER_ATTACHMENT,
      });
      if (this.presentation === "readback") {
        this.#target?.destroy();
        this.#readback?.destroy();
        this.#target = this.#device.createTexture({
          size: [w, h],
          format: this.#format,
          usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
        });
        this.#readback = this.#device.createBuffer({
          size: Math.ceil((4 * w) / 256) * 256 * h,
          usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
        });
      }
    }
    return [w, h];
  }

  /** Records the frame into `target`; submits it unless `submit` is false (then returns it). */
  #encode(target: GPUTexture, w: number, h: number, submit = true): GPUCommandEncoder {
    const dpr = globalThis.devicePixelRatio || 1;
    const eye = [
      this.#distance * Math.cos(this.#pitch) * Math.sin(this.#yaw),
      this.#distance * Math.sin(this.#pitch),
      this.#distance * Math.cos(this.#pitch) * Math.cos(this.#yaw),
    ];
    const view = mat4.lookAt(eye, [0, 0, 0], [0, 1, 0]);
    const proj = mat4.perspective(Math.PI / 4, w / h, 0.05, 100);
    const u = new Float32Array(20);
    u.set(mat4.multiply(proj, view), 0);
    u.set([w, h, 3.2 * dpr, this.#scale], 16);
    this.#device.queue.writeBuffer(this.#uniform, 0, u);

    const enc = this.#device.createCommandEncoder({ label: "scatter" });
    const pass = enc.beginRenderPass({
      colorAttachments: [{
        view: target.createView(),
        clearValue: { r: 0.063, g: 0.078, b: 0.11, a: 1 },
        loadOp: "clear",
        storeOp: "store",
      }],
      depthStencilAttachment: {
        view: this.#depth!.createView(),
        depthClearValue: 1,
        depthLoadOp: "clear",
        depthStoreOp: "store",
      },
    });
    pass.setPipeline(this.#lines);
    pass.setBindGroup(0, this.#lineGroup);
    pass.setVertexBuffer(0, this.#axes);
    pass.draw(6);
    if (this.#pointGroup && this.#count > 0) {
      pass.setPipeline(this.#points);
      pass.setBindGroup(0, this.#pointGroup);
      pass.draw(6, this.#count);
    }
    pass.end();
    if (submit) this.#device.queue.submit([enc.finish()]);
    return enc;
  }

  #listen(): void {
    let last: { x: number; y: number } | null = null;
    this.canvas.addEventListener("pointerdown", (e) => {
      last = { x: e.clientX, y: e.clientY };
      this.canvas.setPointerCapture(e.pointerId);
    });
    this.canvas.addEventListener("pointermove", (e) => {
      if (!last) return;
      this.#yaw -= (e.clientX - last.x) * 0.01;
      this.#pitch = Math.max(-1.5, Math.min(1.5, this.#pitch + (e.clientY - last.y) * 0.01));
      last = { x: e.clientX, y: e.clientY };
      this.requestDraw();
    });
    const end = () => (last = null);
    this.canvas.addEventListener("pointerup", end);
    this.canvas.addEventListener("pointercancel", end);
    this.canvas.addEventListener("wheel", (e) => {
      e.preventDefault();
      this.#distance = Math.max(1.2, Math.min(20, this.#distance * Math.exp(e.deltaY * 0.001)));
      this.requestDraw();
    }, { passive: false });
  }

  /** Orbits the camera by (dyaw, dpitch) radians (what a drag does). */
  rotate(dyaw: number, dpitch: number): void {
    this.#yaw += dyaw;
    this.#pitch = Math.max(-1.5, Math.min(1.5, this.#pitch + dpitch));
    this.requestDraw();
  }
}
