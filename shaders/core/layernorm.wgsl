// Layer norm over rows of length u.n (the last axis): y = (x − mean) · rstd · γ + β with
// rstd = 1 / sqrt(var + eps), var the biased variance, computed in two passes (mean first, then
// Σ (x − mean)², which keeps precision when |mean| ≫ std). Saves stats[2·row] = mean,
// stats[2·row + 1] = rstd for the backward. GAMMA / BETA: whether γ / β are given.
// SMALL (short rows): one invocation per row; otherwise one workgroup per row.
fn sum_x(base: u32, start: u32, step: u32) -> f32 {
  var acc = 0.0;
  for (var c = start; c < u.n; c += step) { acc += x[base + c]; }
  return acc;
}

fn sum_sq(base: u32, mean: f32, start: u32, step: u32) -> f32 {
  var acc = 0.0;
  for (var c = start; c < u.n; c += step) {
    let d = x[base + c] - mean;
    acc += d * d;
  }
  return acc;
}

fn finish(row: u32, mean: f32, rstd: f32, start: u32, step: u32) {
  let base = row * u.n;
  for (var c = start; c < u.n; c += step) {
    var v = (x[base + c] - mean) * rstd;
    if (GAMMA) { v = v * gamma[c]; }
    if (BETA) { v = v + beta[c]; }
    y[base + c] = v;
  }
  if (start == 0u) {
    stats[2u * row] = mean;
    stats[2u * row + 1u] = rstd;
  }
}

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let nf = f32(u.n);
  // No early return: Tint's uniformity analysis rejects a barrier after one (even in the
  // branch SMALL turns off), so both paths are guarded by if/else.
  if (SMALL) {
    let row = linear_id(wid, nwg, lid);
    if (row < u.rows) {
      let mean = sum_x(row * u.n, 0u, 1u) / nf;
      let rstd = 1.0 / sqrt(sum_sq(row * u.n, mean, 0u, 1u) / nf + u.eps);
      finish(row, mean, rstd, 0u, 1u);
    }
  } else {
    let row = wid.x + wid.y * nwg.x; // uniform over the workgroup
    if (row < u.rows) {
      let mean = wg_sum(lid, sum_x(row * u.n, lid, WG_X)) / nf;
      let rstd = 1.0 / sqrt(wg_sum(lid, sum_sq(row * u.n, mean, lid, WG_X)) / nf + u.eps);
      finish(row, mean, rstd, lid, WG_X);
    }
  }
}
