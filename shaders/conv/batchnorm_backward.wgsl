// Gradient of batch norm, one workgroup per channel: Σgy and Σgy·x̂ over the channel give
// dβ and dγ; with batch statistics (TRAIN) gx = γ·rstd·(gy − mean(gy) − x̂·mean(gy·x̂)),
// with running statistics gx = γ·rstd·gy.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  let cnt = u.outer * u.inner;
  let mean = stats[2u * c];
  let rstd = stats[2u * c + 1u];
  var s1 = 0.0;
  var s2 = 0.0;
  for (var e = lid; e < cnt; e += WG_X) {
    let i = at(c, e);
    s1 += gy[i];
    s2 += gy[i] * (x[i] - mean) * rstd;
  }
  let sum_gy = wg_sum(lid, s1);
  let sum_gyx = wg_sum(lid, s2);
  if (lid == 0u) {
    if (GAMMA) { ggamma[c] = sum_gyx; }
    if (BETA) { gbeta[c] = sum_gy; }
  }
  if (!GX) { return; }
  var k = rstd;
  if (GAMMA) { k = k * gamma[c]; }
  let n = f32(cnt);
  for (var e = lid; e < cnt; e += WG_X) {
    let i = at(c, e);
    if (TRAIN) {
      let xh = (x[i] - mean) * rstd;
      gx[i] = k * (gy[i] - sum_gy / n - xh * sum_gyx / n);
    } else {
      gx[i] = k * gy[i];
    }
  }
}
