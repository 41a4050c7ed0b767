// Logit k of row r of the sampled softmax: k = 0 the positive, k ≥ 1 negative k − 1, each less
// its log-q correction when LOGQ_POS / LOGQ_NEG, over τ (`u.inv_tau`).
fn logit(r: u32, k: u32) -> f32 {
  if (k == 0u) {
    var v = pos[r];
    if (LOGQ_POS) { v -= lqp[r]; }
    return v * u.inv_tau;
  }
  var v = neg[r * u.k + k - 1u];
  if (LOGQ_NEG) { v -= lqn[r * u.k + k - 1u]; }
  return v * u.inv_tau;
}
