// Reduces the middle axis of x viewed as [outer, red, inner]: out[o, k] = ⊕_r x[o, r, k] · scale.
// OP 0 = sum, 1 = max. ROW (inner = 1): one workgroup per output, tree reduction in
// workgroup memory; otherwise one invocation per output, reading coalesced along inner.
var<workgroup> sh: array<f32, WG_X>;

fn comb(a: f32, b: f32) -> f32 {
  if (OP == 0) { return a + b; }
  return max(a, b);
}
fn init() -> f32 {
  if (OP == 0) { return 0.0; }
  return bitcast<f32>(0xff800000u); // -Inf
}

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  if (ROW) {
    let o = wid.x + wid.y * nwg.x;
    if (o >= u.outer) { return; }
    var acc = init();
    for (var r = lid; r < u.red; r += WG_X) { acc = comb(acc, x[o * u.red + r]); }
    sh[lid] = acc;
    workgroupBarrier();
    for (var s = WG_X / 2u; s > 0u; s = s / 2u) {
      if (lid < s) { sh[lid] = comb(sh[lid], sh[lid + s]); }
      workgroupBarrier();
    }
    if (lid == 0u) { out[o] = sh[0] * u.scale; }
  } else {
    let i = linear_id(wid, nwg, lid);
    if (i >= u.outer * u.inner) { return; }
    let o = i / u.inner;
    let k = i % u.inner;
    var acc = init();
    for (var r = 0u; r < u.red; r++) { acc = comb(acc, x[(o * u.red + r) * u.inner + k]); }
    out[i] = acc * u.scale;
  }
}
