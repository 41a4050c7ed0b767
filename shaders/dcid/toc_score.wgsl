// TOC channel scores of a codebook E [m, d], one workgroup per dimension j:
//   sim_j = ((Σ_i E_ij)² − Σ_i E_ij²) / (m(m − 1))   (mean product over ordered pairs i ≠ j)
//   var_j = Σ_i (E_ij − mean_j)² / (m − 1)           (unbiased, two passes for accuracy)
//   score_j = −0.7·sim_j + 0.3·var_j
// Reductions run in workgroup memory in a fixed order (deterministic).
var<workgroup> p1: array<f32, WG_X>;
var<workgroup> p2: array<f32, WG_X>;

fn reduce2(lid: u32) {
  workgroupBarrier();
  for (var h = WG_X / 2u; h > 0u; h = h / 2u) {
    if (lid < h) {
      p1[lid] += p1[lid + h];
      p2[lid] += p2[lid + h];
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let j = wid.x;
  var s = 0.0;
  var q = 0.0;
  for (var i = lid; i < u.m; i += WG_X) {
    let v = e[i * u.d + j];
    s += v;
    q = fma(v, v, q);
  }
  p1[lid] = s;
  p2[lid] = q;
  reduce2(lid);
  let total = p1[0];
  let sq = p2[0];
  let mean = total / f32(u.m);
  workgroupBarrier();
  var dv = 0.0;
  for (var i = lid; i < u.m; i += WG_X) {
    let c = e[i * u.d + j] - mean;
    dv = fma(c, c, dv);
  }
  p1[lid] = dv;
  p2[lid] = 0.0;
  reduce2(lid);
  if (lid == 0u) {
    let mm = f32(u.m);
    let si = (total * total - sq) / (mm * (mm - 1.0));
    let va = p1[0] / (mm - 1.0);
    sim[j] = si;
    vari[j] = va;
    score[j] = u.w_sim * si + u.w_var * va;
  }
}
