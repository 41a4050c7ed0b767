#!/usr/bin/env bash
# The device checks, as one script for the lent GPU machine (see ../shared/tools/gpu/README.md):
# unpack Deno, the Vulkan loader and the GL dispatch libraries NVIDIA's Vulkan driver links,
# name the adapter, then run the step benchmark and the matmul comparison. Prepare here with
# `../shared/tools/gpu/pack bench/compare.ts bench/step_bench.ts` and the `.gl` packages of the
# device tool's notes; call the device tool with carry [".gpu", ".gl"] and `bash bench/gpu.sh`.
# Results land in $OUT (step.md/json, matmul.md/json, adapter.txt, log).
set -u
for f in .gl/*.deb .gpu/debs/*.deb; do dpkg -x "$f" /; done
ldconfig
xz -dc .gpu/deno.xz > /usr/local/bin/deno && chmod +x /usr/local/bin/deno
export DENO_DIR=$PWD/.gpu/deno_dir NO_COLOR=1
for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
  /etc/vulkan/icd.d/nvidia_icd.json; do
  [ -f "$f" ] && export VK_DRIVER_FILES=$f && break
done
egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -f $egl ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl
{
  nvidia-smi -L
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"
  ls /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>&1
  ldconfig -p | grep -i 'libvulkan\|GLdispatch\|nvidia' | head -20
} > "$OUT/adapter.txt" 2>&1
probe='const a = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
console.log(a ? JSON.stringify({ vendor: a.info.vendor, architecture: a.info.architecture,
  device: a.info.device, description: a.info.description }) : "no adapter");'
deno eval "$probe" >> "$OUT/adapter.txt" 2>&1
if grep -q "no adapter" "$OUT/adapter.txt"; then
  VK_LOADER_DEBUG=error,warn,driver deno eval "$probe" >> "$OUT/adapter.txt" 2>&1
  cat "$OUT/adapter.txt"
  exit 1
fi
cat "$OUT/adapter.txt"
run() { deno run -A --cached-only --node-modules-dir=none "$@"; }
timeout 200 bash -c "$(declare -f run); run bench/step_bench.ts --no-torch --steps=20 --out=$OUT/step \
  --note='lent NVIDIA H200 (device tool); PyTorch not run there'" > "$OUT/log" 2>&1
echo "step rc $?" >> "$OUT/log"
timeout 200 bash -c "$(declare -f run); run bench/compare.ts --out=$OUT/matmul" >> "$OUT/log" 2>&1
echo "compare rc $?" >> "$OUT/log"
tail -40 "$OUT/log"
