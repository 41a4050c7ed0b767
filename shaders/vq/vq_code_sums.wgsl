// Per-code statistics without float atomics: one workgroup per code (w = b·m + k) scans the
// assignments idx[i·nb + b] in order of i and accumulates cnt[w] = #{i : idx = k} and
// sums[w, j] = Σ_{i : idx = k} x[i·x_row + b·x_bat + j]. Every sum is taken in the same order
// on every run, so the result is deterministic (EMA counts/sums, scatter-add of gradients).
// Thread lid owns dims lid, lid + WG_X, … (JT = ⌈d / WG_X⌉ of them).
var<workgroup> hit: array<u32, WG_X>;

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let w = wid.x + wid.y * nwg.x;
  if (w >= u.m * u.nb) { return; }
  let b = w / u.m;
  let k = i32(w % u.m);
  var acc: array<f32, JT>;
  var count = 0.0;
  for (var i0 = 0u; i0 < u.n; i0 += WG_X) {
    let i = i0 + lid;
    hit[lid] = select(0u, 1u, i < u.n && idx[i * u.nb + b] == k);
    workgroupBarrier();
    for (var r = 0u; r < WG_X; r++) {
      if (hit[r] == 0u) { continue; }
      count += 1.0;
      let base = (i0 + r) * u.x_row + b * u.x_bat;
      for (var t = 0u; t < JT; t++) {
        let j = lid + t * WG_X;
        if (j < u.d) { acc[t] += x[base + j]; }
      }
    }
    workgroupBarrier();
  }
  for (var t = 0u; t < JT; t++) {
    let j = lid + t * WG_X;
    if (j < u.d) { sums[w * u.d + j] = acc[t]; }
  }
  if (lid == 0u) { cnt[w] = count; }
}
