// Exclusive prefix sum, level one: each workgroup scans a block of WG_X * ITEMS consecutive
// values of src (positions ≥ u.n read as 0) into dst[0 .. u.m), and writes the block's total
// to sums[block] when MULTI. Integer sums, so the result is exact and order-independent.
const ITEMS = 4u;
var<workgroup> sh: array<i32, WG_X>;

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let block = wid.x + wid.y * nwg.x;
  let base = block * WG_X * ITEMS + lid * ITEMS;
  var v: array<i32, 4>;
  var run = 0;
  for (var e = 0u; e < ITEMS; e++) {
    let i = base + e;
    var x = 0;
    if (i < u.n) { x = src[i]; }
    v[e] = run;
    run += x;
  }
  // Inclusive Hillis–Steele scan of the per-thread totals.
  sh[lid] = run;
  workgroupBarrier();
  for (var s = 1u; s < WG_X; s = s * 2u) {
    var add = 0;
    if (lid >= s) { add = sh[lid - s]; }
    workgroupBarrier();
    sh[lid] += add;
    workgroupBarrier();
  }
  let before = sh[lid] - run;
  for (var e = 0u; e < ITEMS; e++) {
    let i = base + e;
    if (i < u.m) { dst[i] = before + v[e]; }
  }
  if (MULTI && lid == WG_X - 1u) { sums[block] = sh[lid]; }
}
