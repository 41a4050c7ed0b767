// Backward of gru_fwd over steps [t0, t1), walked from t1 − 1 down. dh (per sequence, in the
// dh buffer between chunks; zero before the last chunk) collects gy[t], then at a valid step
//   dn = dh (1 − z)   dz = dh (h_prev − n)   da_n = dn (1 − n²)   dr = da_n · ghn
//   da_r = dr · r (1 − r)   da_z = dz · z (1 − z)
//   dgi = (da_r, da_z, da_n)   dgh = (da_r, da_z, da_n · r)   dh ← dh · z + W_hhᵀ dgh
// A padded step (t ≥ length) carried the state, so dh passes it unchanged and its dgi and dgh
// are zero. hprev[b, t] is the state before step t (h0 at t = 0), which the host builds.
var<workgroup> dhs: array<f32, MAX_H>;
var<workgroup> gsh: array<f32, 768>;

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let H = u.hidden;
  let T = u.steps;
  let b0 = seq_id(wid, nwg);
  let live = b0 < u.batch;
  let b = min(b0, u.batch - 1u);
  let len = u32(clamp(lens[b], 0, i32(T)));
  for (var j = lid; j < H; j += WG_X) { dhs[j] = dh[b * H + j]; }
  workgroupBarrier();
  for (var s = u.t1; s > u.t0; s--) {
    let t = s - 1u;
    let row = b * T + t;
    var direct: array<f32, MAX_UNITS>;
    var k = 0u;
    for (var j = lid; j < H; j += WG_X) {
      let d = dhs[j] + gy[row * H + j];
      var g = vec3<f32>(0.0);
      var gn_h = 0.0;
      direct[k] = d;
      if (t < len) {
        let q = row * 4u * H;
        let r = gates[q + j];
        let z = gates[q + H + j];
        let n = gates[q + 2u * H + j];
        let ghn = gates[q + 3u * H + j];
        let hp = hprev[row * H + j];
        let dan = d * (1.0 - z) * (1.0 - n * n);
        g = vec3<f32>(dan * ghn * r * (1.0 - r), d * (hp - n) * z * (1.0 - z), dan);
        gn_h = dan * r;
        direct[k] = d * z;
      }
      if (live) {
        let o = row * 3u * H;
        dgi[o + j] = g.x;
        dgi[o + H + j] = g.y;
        dgi[o + 2u * H + j] = g.z;
        dgh[o + j] = g.x;
        dgh[o + H + j] = g.y;
        dgh[o + 2u * H + j] = gn_h;
      }
      gsh[j] = g.x;
      gsh[H + j] = g.y;
      gsh[2u * H + j] = gn_h;
      k++;
    }
    workgroupBarrier();
    k = 0u;
    for (var j = lid; j < H; j += WG_X) {
      var acc = direct[k];
      for (var i = 0u; i < 3u * H; i++) { acc += whh[i * H + j] * gsh[i]; }
      direct[k] = acc;
      k++;
    }
    workgroupBarrier();
    k = 0u;
    for (var j = lid; j < H; j += WG_X) {
      dhs[j] = direct[k];
      k++;
    }
    workgroupBarrier();
  }
  if (live) {
    for (var j = lid; j < H; j += WG_X) { dh[b * H + j] = dhs[j]; }
  }
}
