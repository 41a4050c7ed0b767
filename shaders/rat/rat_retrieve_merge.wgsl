// RAT retrieval, pass 2: merges the per-chunk lists of rat_retrieve_topk.wgsl, chunk by chunk
// in DB order, into each query's top-k (a strict > keeps ties on the lower DB row, since later
// chunks hold higher rows). With u.init, the lists already in vals/idx (earlier DB blocks, so
// lower rows) come first. Writes vals/idx rows r0 + t (−Inf / −1 where fewer than k rows
// scored above 0).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = linear_id(wid, nwg, lid);
  if (t >= u.nr) { return; }
  let k = u.k;
  let ninf = bitcast<f32>(0xff800000u);
  var bv: array<f32, KC>;
  var bi: array<i32, KC>;
  for (var j = 0u; j < KC; j++) { bv[j] = ninf; bi[j] = -1; }
  let o = (u.r0 + t) * k;
  if (u.init != 0u) {
    for (var j = 0u; j < k; j++) { bv[j] = vals[o + j]; bi[j] = idx[o + j]; }
  }
  let n = u.nch * k;
  let base = t * n;
  for (var e = 0u; e < n; e++) {
    let i = cand_i[base + e];
    let s = cand_v[base + e];
    if (i < 0 || !(s > bv[k - 1u])) { continue; }
    var p = k - 1u;
    while (p > 0u && s > bv[p - 1u]) {
      bv[p] = bv[p - 1u];
      bi[p] = bi[p - 1u];
      p--;
    }
    bv[p] = s;
    bi[p] = i;
  }
  for (var j = 0u; j < k; j++) { vals[o + j] = bv[j]; idx[o + j] = bi[j]; }
}
