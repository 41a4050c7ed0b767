// Sampled softmax forward: row r has the logits l_0 = (pos[r] − logq_pos[r]) / τ and
// l_k = (neg[r, k] − logq_neg[r, k]) / τ, k < u.k (the log-q terms only with LOGQ_POS /
// LOGQ_NEG). Writes lse_r (saved for the backward) and the row loss lse_r − l_0.
// One invocation per row, two passes over its K + 1 logits (max, then Σ exp).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = linear_id(wid, nwg, lid);
  if (r >= u.rows) { return; }
  var m = logit(r, 0u);
  for (var k = 1u; k <= u.k; k++) { m = max(m, logit(r, k)); }
  var s = 0.0;
  for (var k = 0u; k <= u.k; k++) { s += exp(logit(r, k) - m); }
  let lse = m + log(s);
  lse_out[r] = lse;
  loss[r] = lse - logit(r, 0u);
}
