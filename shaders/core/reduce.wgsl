// Reduces the middle axis of x viewed as [outer, red, inner], in nb blocks of u.chunk:
//   out[o, b, k] = ⊕_{r in block b} x[o, r, k] · scale      (nb = 1: out[o, k])
// OP 0 = sum, 1 = max. ROW (inner = 1): one workgroup per (o, b), tree reduction in workgroup
// memory; otherwise one invocation per output, reading coalesced along inner. Blocks keep
// every invocation's loop short (software adapters stop long loops silently).
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
    let ob = wid.x + wid.y * nwg.x;
    if (ob >= u.outer * u.nb) { return; }
    let o = ob / u.nb;
    let r0 = (ob % u.nb) * u.chunk;
    let r1 = min(u.red, r0 + u.chunk);
    var acc = init();
    for (var r = r0 + lid; r < r1; r += WG_X) { acc = comb(acc, x[o * u.red + r]); }
    sh[lid] = acc;
    workgroupBarrier();
    for (var s = WG_X / 2u; s > 0u; s = s / 2u) {
      if (lid < s) { sh[lid] = comb(sh[lid], sh[lid + s]); }
      workgroupBarrier();
    }
    if (lid == 0u) { out[ob] = sh[0] * u.scale; }
  } else {
    let i = linear_id(wid, nwg, lid);
    if (i >= u.outer * u.nb * u.inner) { return; }
    let o = i / (u.nb * u.inner);
    let b = (i / u.inner) % u.nb;
    let k = i % u.inner;
    let r1 = min(u.red, (b + 1u) * u.chunk);
    var acc = init();
    for (var r = b * u.chunk; r < r1; r++) { acc = comb(acc, x[(o * u.red + r) * u.inner + k]); }
    out[i] = acc * u.scale;
  }
}
