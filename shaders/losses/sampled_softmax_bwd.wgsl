// Sampled softmax backward: with p_k = e^{l_k − lse_r} and w = gy / (u.rows · τ),
// gpos[r] = w·(p_0 − 1) and gneg[r, k] = w·p_k (logits as in sampled_softmax_fwd).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = linear_id(wid, nwg, lid);
  if (r >= u.rows) { return; }
  let w = gy[0] * u.inv_tau / f32(u.rows);
  let lse = lse_in[r];
  gpos[r] = w * (exp(logit(r, 0u) - lse) - 1.0);
  for (var k = 1u; k <= u.k; k++) {
    gneg[r * u.k + k - 1u] = w * exp(logit(r, k) - lse);
  }
}
