// Backward of lstm_fwd over processing steps [t0, t1), walked from t1 − 1 down. The carried
// (∂h, ∂c) of every sequence (in `carry` between chunks; zero before the last chunk) gains
// gy[b, t] = [∂h | ∂c] of the step's outputs, then, with the saved gates and cells,
//   ∂c += ∂h·o·(1 − tanh²c)   ∂a_i = ∂c·g·i(1 − i)   ∂a_f = ∂c·c_prev·f(1 − f)
//   ∂a_g = ∂c·i·(1 − g²)      ∂a_o = ∂h·tanh c·o(1 − o)
//   dgi_t = ∂a      ∂h ← W_hhᵀ ∂a      ∂c ← ∂c·f
// c_prev is out's cell at the previous processing step (zero at the first). The weight
// gradient Σ_t ∂a_tᵀ h_prev is one matmul on the host.
var<workgroup> dhs: array<f32, MAX_H>;
var<workgroup> gsh: array<f32, 1024>;

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let H = u.hidden;
  let T = u.steps;
  let b0 = seq_id(wid, nwg);
  let live = b0 < u.batch;
  let b = min(b0, u.batch - 1u);
  var dcs: array<f32, MAX_UNITS>;
  var k = 0u;
  for (var j = lid; j < H; j += WG_X) {
    dhs[j] = carry[b * 2u * H + j];
    dcs[k] = carry[b * 2u * H + H + j];
    k++;
  }
  workgroupBarrier();
  for (var s = u.t1; s > u.t0; s--) {
    let row = b * T + time_of(s - 1u);
    let g0 = row * 4u * H;
    var dn: array<f32, MAX_UNITS>;
    k = 0u;
    for (var j = lid; j < H; j += WG_X) {
      let dh = dhs[j] + gy[row * 2u * H + j];
      let i = gates[g0 + j];
      let f = gates[g0 + H + j];
      let g = gates[g0 + 2u * H + j];
      let o = gates[g0 + 3u * H + j];
      let tc = lstm_tanh(out[row * 2u * H + H + j]);
      var cp = 0.0;
      if (s > 1u) { cp = out[(b * T + time_of(s - 2u)) * 2u * H + H + j]; }
      let dc = dcs[k] + gy[row * 2u * H + H + j] + dh * o * (1.0 - tc * tc);
      let da = vec4<f32>(dc * g * i * (1.0 - i), dc * cp * f * (1.0 - f), dc * i * (1.0 - g * g),
                         dh * tc * o * (1.0 - o));
      if (live) {
        dgi[g0 + j] = da.x;
        dgi[g0 + H + j] = da.y;
        dgi[g0 + 2u * H + j] = da.z;
        dgi[g0 + 3u * H + j] = da.w;
      }
      gsh[j] = da.x;
      gsh[H + j] = da.y;
      gsh[2u * H + j] = da.z;
      gsh[3u * H + j] = da.w;
      dcs[k] = dc * f;
      k++;
    }
    workgroupBarrier();
    k = 0u;
    for (var j = lid; j < H; j += WG_X) {
      var acc = 0.0;
      for (var r = 0u; r < 4u * H; r++) { acc += whh[r * H + j] * gsh[r]; }
      dn[k] = acc;
      k++;
    }
    workgroupBarrier();
    k = 0u;
    for (var j = lid; j < H; j += WG_X) {
      dhs[j] = dn[k];
      k++;
    }
    workgroupBarrier();
  }
  if (live) {
    k = 0u;
    for (var j = lid; j < H; j += WG_X) {
      carry[b * 2u * H + j] = dhs[j];
      carry[b * 2u * H + H + j] = dcs[k];
      k++;
    }
  }
}
