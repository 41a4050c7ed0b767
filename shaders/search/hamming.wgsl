// Hamming scores of a tile: out[r, c] = −popcount(q[r0 + r] ^ db[c0 + c]) over u.words words,
// so larger is closer. With GROUPS, a pair whose groups match (query group ≥ 0) is NaN, which
// topk skips (self / same-fold exclusion).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = linear_id(wid, nwg, lid);
  if (t >= u.nr * u.nc) { return; }
  let r = u.r0 + t / u.nc;
  let c = u.c0 + t % u.nc;
  if (GROUPS && qg[r] >= 0 && qg[r] == dg[c]) { out[t] = bitcast<f32>(0x7fc00000u); return; }
  var d = 0u;
  for (var w = 0u; w < u.words; w++) { d += countOneBits(q[r * u.words + w] ^ db[c * u.words + w]); }
  out[t] = -f32(d);
}
