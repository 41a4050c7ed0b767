/**
 * The one place that acquires a WebGPU adapter and device.
 * @module
 */

/** Options for {@link acquireDevice}. */
export interface DeviceOptions {
  /** Passed to `requestAdapter`. */
  powerPreference?: GPUPowerPreference;
  /** Ask for the fallback (software) adapter. */
  forceFallbackAdapter?: boolean;
  /** Optional features to enable when the adapter has them. */
  features?: GPUFeatureName[];
}

/** What {@link acquireDevice} returns. */
export interface AcquiredDevice {
  /** The device every op runs on. */
  device: GPUDevice;
  /** Adapter description, read before `requestDevice` (the adapter is invalidated after). */
  adapter: { vendor: string; architecture: string; device: string; description: string };
  /** Enabled optional features (subset of those asked for). */
  features: ReadonlySet<string>;
}

const HELP = "On headless Linux, a software adapter comes from Mesa: `apt-get install " +
  "mesa-vulkan-drivers` (lavapipe). In a browser, use one with WebGPU enabled " +
  "(Chromium: --enable-unsafe-webgpu).";

/** Requests an adapter and a device, enabling optional features only where present. */
export async function acquireDevice(opts: DeviceOptions = {}): Promise<AcquiredDevice> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) throw new Error(`wgrec: WebGPU is not available here (no navigator.gpu). ${HELP}`);
  const adapter = await gpu.requestAdapter({
    powerPreference: opts.powerPreference,
    forceFallbackAdapter: opts.forceFallbackAdapter,
  });
  if (!adapter) {
    throw new Error(`wgrec: navigator.gpu.requestAdapter() found no adapter. ${HELP}`);
  }
  const i = adapter.info;
  const info = {
    vendor: i.vendor,
    architecture: i.architecture,
    device: i.device,
    // Chromium leaves the description empty (SwiftShader shows only in the architecture):
    // fall back to vendor and architecture, so kernel choices by adapter still work there.
    description: i.description || `${i.vendor} ${i.architecture}`.trim(),
  };
  const wanted: GPUFeatureName[] = opts.features ?? ["shader-f16", "timestamp-query"];
  const features = wanted.filter((f) => adapter.features.has(f));
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: features,
    // Take the adapter's maxima for what large tables and wide kernels need.
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    },
  });
  return { device, adapter: info, features: new Set(features) };
}
