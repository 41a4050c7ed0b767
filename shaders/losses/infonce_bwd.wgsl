// InfoNCE backward, one row pass over one block of keys: for each row x_r of one input
// (A, P or the negatives N), recomputes the logits z = (x_r · k_j) · (s_r · s_j) / τ against
// keys k[u.kb .. u.ke), turns them into loss coefficients ∂L/∂z with the saved log-sum-exps
//   g · (wr · (e^{z − lse_row[r]} − δ) + wk · (e^{z − lse_key[j]} − δ)),
// and adds Σ_j ∂L/∂z · ∂z/∂x̂_r into gx_r. No logit matrix is stored. g = st[1] is the
// upstream gradient; wr weighs the direction in which x_r is the query, wk the one in which
// it is a key (a zero weight skips its exponential). When u.diag = 1 the block is the batch:
// δ = [j = r], and (MASK) keys j ≠ r with ids[j] == ids[r] get coefficient 0, as they were
// left out of the forward. When TAU, tpart[u.off_t + r] += u.tw · Σ coefficient · z, from
// which ∂L/∂τ = −Σ tpart / τ. The last block (u.last = 1) takes the gradient through the
// normalisation when NORM: gx = s_r · (ĝ − (ĝ · x̂) x̂). gx (and tpart) start at zero.
// Each 16-dim chunk of a tile of TK keys is staged in workgroup memory by the whole workgroup.
// Blocks are bounded because llvmpipe stops any invocation after 65535 loop iterations.
// Shared helpers: infonce_common.wgsl.

var<workgroup> ks: array<vec4<f32>, TK * 4u>;

// gx[r, c .. c + 4) += v, for the dims that exist (unrolled: loops count against the budget).
fn add4(r: u32, c: u32, v: vec4<f32>) {
  let b = r * u.d + c;
  if (D16 || c < u.d) { gx[b] += v.x; }
  if (D16 || c + 1u < u.d) { gx[b + 1u] += v.y; }
  if (D16 || c + 2u < u.d) { gx[b + 2u] += v.z; }
  if (D16 || c + 3u < u.d) { gx[b + 3u] += v.w; }
}

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = linear_id(wid, nwg, lid);
  let live = r < u.rows;
  let rr = min(r, u.rows - 1u);
  let inv_tau = 1.0 / st[0];
  let g = st[1];
  var sn = 1.0;
  if (NORM) { sn = st[u.off_x + rr]; }
  var lse_row = 0.0;
  if (u.wr != 0.0) { lse_row = st[u.off_lse_row + rr]; }
  var my_id = 0;
  if (MASK) { my_id = ids[rr]; }
  var tacc = 0.0;
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
    // Each dot product becomes the coefficient of its raw key vector in ∂L/∂x̂_r.
    for (var t = 0u; t < kn; t++) {
      let j = k0 + t;
      var sk = 1.0;
      if (NORM) { sk = st[u.off_k + j]; }
      let z = acc[t] * (sn * sk) * inv_tau; // bit-identical to the forward's logit
      var cf = 0.0;
      if (u.wr != 0.0) { cf += u.wr * exp(z - lse_row); }
      if (u.wk != 0.0) { cf += u.wk * exp(z - st[u.off_lse_k + j]); }
      if (u.diag != 0u) {
        if (j == rr) { cf -= u.wr + u.wk; }
        if (MASK && j != rr && ids[j] == my_id) { cf = 0.0; }
      }
      cf *= g;
      tacc += cf * z;
      acc[t] = cf * sk * inv_tau;
    }
    // Barriers below: every invocation takes part, only live rows write.
    for (var c = 0u; c < u.d; c += 16u) {
      workgroupBarrier();
      for (var e = lid; e < TK * 4u; e += WG_X) {
        ks[e] = k4(min(k0 + e / 4u, u.ke - 1u), c + 4u * (e % 4u));
      }
      workgroupBarrier();
      var g0 = vec4(0.0);
      var g1 = vec4(0.0);
      var g2 = vec4(0.0);
      var g3 = vec4(0.0);
      for (var t = 0u; t < kn; t++) {
        let a = acc[t];
        g0 += a * ks[4u * t];
        g1 += a * ks[4u * t + 1u];
        g2 += a * ks[4u * t + 2u];
        g3 += a * ks[4u * t + 3u];
      }
      if (live) {
        add4(r, c, g0);
        add4(r, c + 4u, g1);
        add4(r, c + 8u, g2);
        add4(r, c + 12u, g3);
      }
    }
  }
  if (!live) { return; }
  if (TAU) { tpart[u.off_t + r] += u.tw * tacc; }
  if (NORM && u.last != 0u) {
    // ĝ = gx is the gradient with respect to x̂ = s·x. Below EPS the scale is constant.
    var gdx = 0.0;
    var ss = 0.0;
    for (var c = 0u; c < u.d; c++) {
      let xv = x[r * u.d + c];
      gdx += gx[r * u.d + c] * xv;
      ss += xv * xv;
    }
    let proj = select(0.0, gdx * sn * sn, sqrt(ss) >= EPS);
    for (var c = 0u; c < u.d; c++) {
      gx[r * u.d + c] = sn * (gx[r * u.d + c] - proj * x[r * u.d + c]);
    }
  }
}
