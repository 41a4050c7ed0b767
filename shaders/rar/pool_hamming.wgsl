// RAR's per-request recall pool, SimHash scores: out[t] = −Hamming(q[t / per], p[t]) by
// XOR-popcount over `words` u32 words (the codes of a request's target and of row t of its
// pool); `skip` (NaN: top-k passes over it) where the pool item ids[t] is the request's ex.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = linear_id(wid, nwg, lid);
  if (t >= u.n) { return; }
  let r = t / u.per;
  var h = 0u;
  for (var w = 0u; w < u.words; w++) { h += countOneBits(q[r * u.words + w] ^ p[t * u.words + w]); }
  var s = -f32(h);
  if (ids[t] == ex[r]) { s = u.skip; }
  out[t] = s;
}
