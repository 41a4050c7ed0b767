// InfoNCE forward, one direction, one block of keys: every query row x_r is scored against
// keys k[u.kb .. u.ke) with z = (x_r · k_j) · (s_r · s_j) / τ (s = inverse norms when NORM,
// else 1), folding them into a running online log-sum-exp (m, s) kept in `state`, so no
// logit matrix is ever stored. The host streams the keys through in blocks: first the batch
// block (u.diag = 1: key r is the positive; with MASK, keys j ≠ r with ids[j] == ids[r] are
// left out), then the shared negatives. Blocks are bounded because llvmpipe stops any
// invocation after 65535 loop iterations in total. The last block writes lse_r to
// st[u.off_lse + r] and the row loss lse_r − z_rr to loss[u.off_loss + r].
// st holds the scalars: st[0] = τ, and the inverse norms at u.off_x and u.off_k.
// One invocation per query row; the workgroup stages each 16-dim chunk of a tile of TK keys
// in workgroup memory (2-3× faster than reading keys from storage on llvmpipe).
// Shared helpers: infonce_common.wgsl.

const NEG_INF = -3.0e38;
// The current 16-dim chunk of TK keys, staged by the whole workgroup.
var<workgroup> ks: array<vec4<f32>, TK * 4u>;

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = linear_id(wid, nwg, lid);
  let live = r < u.rows;
  let rr = min(r, u.rows - 1u); // rows past the end compute on the last row and write nothing
  let inv_tau = 1.0 / st[0];
  var sx = 1.0;
  if (NORM) { sx = st[u.off_x + rr]; }
  var my_id = 0;
  if (MASK) { my_id = ids[rr]; }
  var m = NEG_INF;
  var s = 0.0;
  var zpos = 0.0;
  if (u.first == 0u) {
    m = state[3u * rr];
    s = state[3u * rr + 1u];
    zpos = state[3u * rr + 2u];
  }
  var acc: array<f32, TK>;
  for (var k0 = u.kb; k0 < u.ke; k0 += TK) {
    let kn = min(TK, u.ke - k0);
    for (var t = 0u; t < TK; t++) { acc[t] = 0.0; }
    for (var c = 0u; c < u.d; c += 16u) {
      let q0 = x4(rr, c);
      let q1 = x4(rr, c + 4u);
      let q2 = x4(rr, c + 8u);
      let q3 = x4(rr, c + 12u);
      workgroupBarrier();
      for (var e = lid; e < TK * 4u; e += WG_X) {
        ks[e] = k4(min(k0 + e / 4u, u.ke - 1u), c + 4u * (e % 4u));
      }
      workgroupBarrier();
      for (var t = 0u; t < kn; t++) {
        acc[t] += dot(q0, ks[4u * t]) + dot(q1, ks[4u * t + 1u]) + dot(q2, ks[4u * t + 2u]) +
          dot(q3, ks[4u * t + 3u]);
      }
    }
    // Logits of the tile (left-out keys get −inf), then one rescale per tile.
    var tm = NEG_INF;
    for (var t = 0u; t < kn; t++) {
      let j = k0 + t;
      var sk = 1.0;
      if (NORM) { sk = st[u.off_k + j]; }
      var z = acc[t] * (sx * sk) * inv_tau; // symmetric in x and k, as in the backward
      if (u.diag != 0u) {
        if (j == rr) { zpos = z; }
        if (MASK && j != rr && ids[j] == my_id) { z = NEG_INF; }
      }
      acc[t] = z;
      tm = max(tm, z);
    }
    let mn = max(m, tm);
    var ts = 0.0;
    for (var t = 0u; t < kn; t++) {
      if (acc[t] > NEG_INF) { ts += exp(acc[t] - mn); }
    }
    s = s * exp(m - mn) + ts;
    m = mn;
  }
  if (!live) { return; }
  if (u.last != 0u) {
    let lse = m + log(s);
    st[u.off_lse + r] = lse;
    loss[u.off_loss + r] = lse - zpos;
  } else {
    state[3u * r] = m;
    state[3u * r + 1u] = s;
    state[3u * r + 2u] = zpos;
  }
}
