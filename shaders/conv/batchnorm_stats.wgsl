// Per-channel statistics of batch norm over x viewed as [outer, C, inner]; one workgroup per
// channel. TRAIN: the batch mean and biased variance (two passes), saved as stats[2c] = mean,
// stats[2c + 1] = 1/sqrt(var + eps), and with UPDATE the running buffers move by `momentum`
// (running_var takes the unbiased variance, as PyTorch). Otherwise the running buffers give
// the statistics.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  let cnt = u.outer * u.inner;
  var s = 0.0;
  for (var e = lid; e < cnt; e += WG_X) { s += x[at(c, e)]; }
  let mean = wg_sum(lid, s) / f32(cnt);
  var q = 0.0;
  for (var e = lid; e < cnt; e += WG_X) {
    let d = x[at(c, e)] - mean;
    q += d * d;
  }
  let var_b = wg_sum(lid, q) / f32(cnt);
  if (lid != 0u) { return; }
  if (TRAIN) {
    stats[2u * c] = mean;
    stats[2u * c + 1u] = 1.0 / sqrt(var_b + u.eps);
    if (UPDATE) {
      let unbiased = var_b * f32(cnt) / max(f32(cnt) - 1.0, 1.0);
      rmean[c] = (1.0 - u.momentum) * rmean[c] + u.momentum * mean;
      rvar[c] = (1.0 - u.momentum) * rvar[c] + u.momentum * unbiased;
    }
  } else {
    stats[2u * c] = rmean[c];
    stats[2u * c + 1u] = 1.0 / sqrt(rvar[c] + u.eps);
  }
}
