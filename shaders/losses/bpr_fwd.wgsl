// BPR forward: loss[i] = −log σ(pos[i / K] − neg[i]) = softplus(neg[i] − pos[i / K]), for the
// u.n = B·K pairs (K negatives per positive); the wrapper averages them.
// log(1 + e) for e in [0, 1], accurate in f32 where log(1.0 + e) is not: 1.0 + e rounds e
// away below 2^-24 (softplus(-20) would read 0, not e^-20). A series below 0.1 (truncation
// error < e^8/8), the plain form above (its rounding error is then < 1e-6 relative).
fn log1p_unit(e: f32) -> f32 {
  if (e < 0.1) {
    return e * (1.0 - e * (0.5 - e * (0.33333334 - e * (0.25 - e * (0.2 - e * (0.16666667 - e * 0.14285715))))));
  }
  return log(1.0 + e);
}
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.n) { return; }
  let x = neg[i] - pos[i / u.k];
  loss[i] = max(x, 0.0) + log1p_unit(exp(-abs(x))); // softplus: no overflow, exact tail
}
