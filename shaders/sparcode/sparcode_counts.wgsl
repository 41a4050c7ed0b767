// Per-query code counts: counts[q, c] = #{ k : ids[q, k] = c }, the query's side of the
// factorisation Σ_k T[ids[q, k], i] = counts[q] · T[:, i] (dot-product scoring of SparCode).
// One invocation per query row walks its K ids (no two invocations share a row); ids outside
// [0, ncodes) (−1 from codeIds) count nowhere. `counts` is zeroed by the host.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let q = linear_id(wid, nwg, lid);
  if (q >= u.nq) { return; }
  for (var k = 0u; k < u.k; k++) {
    let c = ids[q * u.k + k];
    if ((c >= 0) && (u32(c) < u.ncodes)) { counts[q * u.ncodes + u32(c)] += 1.0; }
  }
}
