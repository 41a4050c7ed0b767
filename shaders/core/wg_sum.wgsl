// Sum of one f32 per invocation over the workgroup (tree reduction in workgroup memory; every
// invocation must call it, and every one gets the sum). WG_X must be a power of two.
var<workgroup> sh: array<f32, WG_X>;

fn wg_sum(lid: u32, v: f32) -> f32 {
  sh[lid] = v;
  workgroupBarrier();
  for (var s = WG_X / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { sh[lid] = sh[lid] + sh[lid + s]; }
    workgroupBarrier();
  }
  let r = sh[0];
  workgroupBarrier();
  return r;
}
