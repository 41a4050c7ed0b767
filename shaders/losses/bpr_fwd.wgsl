// BPR forward: loss[i] = −log σ(pos[i / K] − neg[i]) = softplus(neg[i] − pos[i / K]), for the
// u.n = B·K pairs (K negatives per positive); the wrapper averages them.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.n) { return; }
  let x = neg[i] - pos[i / u.k];
  loss[i] = max(x, 0.0) + log(1.0 + exp(-abs(x))); // softplus without overflow
}
