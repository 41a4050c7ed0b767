// RAT retrieval scores of a tile (query rows r0 + r, DB rows c0 + c):
//   s = Σ_f [q[r, f] == db[c, f]] · w[r, f]   (w = IDF of the query's value, 0 if unused),
// summed over fields in order. A zero score is NaN (dropped: topk skips NaN), and so is a pair
// in the same group when GROUPS (the query's fold; group < 0 excludes nothing).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = linear_id(wid, nwg, lid);
  if (t >= u.nr * u.nc) { return; }
  let r = u.r0 + t / u.nc;
  let c = u.c0 + t % u.nc;
  let nan = bitcast<f32>(0x7fc00000u);
  if (GROUPS && qg[r] >= 0 && qg[r] == dg[c]) { out[t] = nan; return; }
  var s = 0.0;
  for (var f = 0u; f < u.f; f++) {
    if (q[r * u.f + f] == db[c * u.f + f]) { s += w[r * u.f + f]; }
  }
  out[t] = select(s, nan, s <= 0.0);
}
