// BPR forward: loss[i] = −log σ(pos[i / K] − neg[i]) = softplus(neg[i] − pos[i / K]), for the
// u.n = B·K pairs (K negatives per positive); the wrapper averages them. The tail is taken
// through log1p_unit (shaders/common/numerics.wgsl): 1.0 + e rounds e away below 2^-24, so
// softplus(-20) would read 0, not e^-20.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.n) { return; }
  let x = neg[i] - pos[i / u.k];
  loss[i] = max(x, 0.0) + log1p_unit(exp(-abs(x))); // softplus: no overflow, exact tail
}
