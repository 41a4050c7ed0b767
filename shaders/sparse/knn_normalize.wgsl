// Row L2 normalisation for cosine similarity: out[i, :] = x[i, :] / ‖x[i, :]‖. The norm is
// computed with the row's max |x| factored out (no overflow); a zero row, or one with a
// non-finite value, becomes a zero row (cosine 0 with everything). One invocation per row.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.n) { return; }
  let o = i * u.d;
  var m = 0.0;
  var bad = false;
  for (var t = 0u; t < u.d; t++) {
    let v = x[o + t];
    bad = bad || non_finite(v);
    m = max(m, abs(v));
  }
  var ss = 0.0;
  if (!bad && m > 0.0) {
    for (var t = 0u; t < u.d; t++) { let v = x[o + t] / m; ss += v * v; }
  }
  // Divide (not multiply by 1/norm): a row that is a multiple of a unit vector stays exact.
  let norm = m * sqrt(ss);
  for (var t = 0u; t < u.d; t++) { out[o + t] = select(x[o + t] / norm, 0.0, !(ss > 0.0)); }
}
