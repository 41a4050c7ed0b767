// GRU recurrence, steps [t0, t1) of every sequence (PyTorch's gate order r, z, n):
//   r = σ(gi_r + W_hr h + b_hr)    z = σ(gi_z + W_hz h + b_hz)
//   n = tanh(gi_n + r ⊙ (W_hn h + b_hn))    h' = (1 − z) ⊙ n + z ⊙ h
// gi = x W_ihᵀ + b_ih is precomputed by a matmul. Past a sequence's length the state is
// carried (out[t] = out[t − 1]), so out[:, T − 1] is each sequence's last state. Saves
// (r, z, n, W_hn h + b_hn) per step for the backward. Chunks of steps keep every invocation's
// loop count under the software adapters' cap; a chunk starts from out[t0 − 1] (or h0).
// VEC: read W_hh as vec4s (whh4, the same buffer as whh) when H % 4 == 0.
var<workgroup> hs: array<f32, MAX_H>;

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let H = u.hidden;
  let T = u.steps;
  let b0 = seq_id(wid, nwg);
  let live = b0 < u.batch;
  let b = min(b0, u.batch - 1u);
  let len = u32(clamp(lens[b], 0, i32(T)));
  for (var j = lid; j < H; j += WG_X) {
    if (u.t0 == 0u) { hs[j] = h0[b * H + j]; } else { hs[j] = out[(b * T + u.t0 - 1u) * H + j]; }
  }
  workgroupBarrier();
  for (var t = u.t0; t < u.t1; t++) {
    var hn: array<f32, MAX_UNITS>;
    var k = 0u;
    let row = b * T + t;
    for (var j = lid; j < H; j += WG_X) {
      let hp = hs[j];
      var v = hp;
      var gate = vec4<f32>(0.0);
      if (t < len) {
        var ar = bhh[j];
        var az = bhh[H + j];
        var an = bhh[2u * H + j];
        if (VEC) {
          // H % 4 == 0: W_hh rows as vec4s, a quarter of the storage loads (each one a
          // per-lane gather on a CPU adapter).
          let H4 = H / 4u;
          for (var c = 0u; c < H4; c++) {
            let h = vec4<f32>(hs[4u * c], hs[4u * c + 1u], hs[4u * c + 2u], hs[4u * c + 3u]);
            ar += dot(whh4[j * H4 + c], h);
            az += dot(whh4[(H + j) * H4 + c], h);
            an += dot(whh4[(2u * H + j) * H4 + c], h);
          }
        } else {
          for (var c = 0u; c < H; c++) {
            let h = hs[c];
            ar += whh[j * H + c] * h;
            az += whh[(H + j) * H + c] * h;
            an += whh[(2u * H + j) * H + c] * h;
          }
        }
        let g = row * 3u * H;
        let r = sigmoid_f(gi[g + j] + ar);
        let z = sigmoid_f(gi[g + H + j] + az);
        let n = tanh_f(gi[g + 2u * H + j] + r * an);
        v = (1.0 - z) * n + z * hp;
        gate = vec4<f32>(r, z, n, an);
      }
      if (live) {
        let s = row * 4u * H;
        gates[s + j] = gate.x;
        gates[s + H + j] = gate.y;
        gates[s + 2u * H + j] = gate.z;
        gates[s + 3u * H + j] = gate.w;
      }
      hn[k] = v;
      k++;
    }
    workgroupBarrier();
    k = 0u;
    for (var j = lid; j < H; j += WG_X) {
      hs[j] = hn[k];
      if (live) { out[row * H + j] = hn[k]; }
      k++;
    }
    workgroupBarrier();
  }
}
