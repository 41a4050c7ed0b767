// LSTM recurrence over processing steps [t0, t1) of every sequence, one workgroup per sequence
// (PyTorch's gate order i, f, g, o):
//   (a_i, a_f, a_g, a_o) = gi_t + W_hh h       c' = σ(a_f)·c + σ(a_i)·tanh(a_g)       h' = σ(a_o)·tanh(c')
// gi = x W_ihᵀ + b_ih + b_hh is precomputed by one matmul. Step s runs time t = s, or T − 1 − s
// when u.rev != 0 (the reverse direction). Writes out[b, t] = [h | c] and saves the activated
// gates (i, f, g, o) for the backward. h lives in workgroup memory (every unit reads all of it);
// c stays in the registers of the invocation that owns the unit. A chunk (t0 > 0) restarts from
// out at the previous step's time; the first starts from zero. VEC: read W_hh as vec4s (whh4,
// the same buffer as whh) when H % 4 == 0.
var<workgroup> hs: array<vec4<f32>, MAX_H / 4u>;

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let H = u.hidden;
  let T = u.steps;
  let b0 = seq_id(wid, nwg);
  let live = b0 < u.batch;
  let b = min(b0, u.batch - 1u);
  var cs: array<f32, MAX_UNITS>;
  var k = 0u;
  for (var j = lid; j < H; j += WG_X) {
    var h = 0.0;
    var c = 0.0;
    if (u.t0 > 0u) {
      let o = (b * T + time_of(u.t0 - 1u)) * 2u * H;
      h = out[o + j];
      c = out[o + H + j];
    }
    hs[j / 4u][j % 4u] = h;
    cs[k] = c;
    k++;
  }
  workgroupBarrier();
  for (var s = u.t0; s < u.t1; s++) {
    let row = b * T + time_of(s);
    let g0 = row * 4u * H;
    var hn: array<f32, MAX_UNITS>;
    k = 0u;
    for (var j = lid; j < H; j += WG_X) {
      var a = vec4<f32>(gi[g0 + j], gi[g0 + H + j], gi[g0 + 2u * H + j], gi[g0 + 3u * H + j]);
      if (VEC) {
        // H % 4 == 0: W_hh rows as vec4s, a quarter of the storage loads (each one a per-lane
        // gather on a CPU adapter).
        let H4 = H / 4u;
        for (var q = 0u; q < H4; q++) {
          let h = hs[q];
          a += vec4<f32>(dot(whh4[j * H4 + q], h), dot(whh4[(H + j) * H4 + q], h),
                         dot(whh4[(2u * H + j) * H4 + q], h), dot(whh4[(3u * H + j) * H4 + q], h));
        }
      } else {
        for (var q = 0u; q < H; q++) {
          let h = hs[q / 4u][q % 4u];
          a += h * vec4<f32>(whh[j * H + q], whh[(H + j) * H + q], whh[(2u * H + j) * H + q],
                             whh[(3u * H + j) * H + q]);
        }
      }
      let i = lstm_sigmoid(a.x);
      let f = lstm_sigmoid(a.y);
      let g = lstm_tanh(a.z);
      let o = lstm_sigmoid(a.w);
      let c = f * cs[k] + i * g;
      let h = o * lstm_tanh(c);
      cs[k] = c;
      hn[k] = h;
      if (live) {
        gates[g0 + j] = i;
        gates[g0 + H + j] = f;
        gates[g0 + 2u * H + j] = g;
        gates[g0 + 3u * H + j] = o;
        out[row * 2u * H + j] = h;
        out[row * 2u * H + H + j] = c;
      }
      k++;
    }
    workgroupBarrier();
    k = 0u;
    for (var j = lid; j < H; j += WG_X) {
      hs[j / 4u][j % 4u] = hn[k];
      k++;
    }
    workgroupBarrier();
  }
}
