// InfoNCE backward for adapters that run compute on a CPU (llvmpipe/lavapipe, SwiftShader),
// register-blocked like infonce_fwd_rb.wgsl: each invocation owns 16 rows x_r of one input and,
// per block of 16 keys, keeps their 16 × 16 logits in registers, turns them into the loss
// coefficients of infonce_bwd.wgsl (same contract: weights wr / wk, δ and the duplicate mask on
// the batch block, τ partial sums in tpart, the normalisation's gradient at the last block), and
// adds coefficient · key into gx, 4 dims at a time. Needs d % 4 == 0 (u.d4 = d / 4).
// Shared helpers: tile4.wgsl, infonce_rb_common.wgsl.

struct Keys { sk: array<vec4<f32>, 4>, id: array<vec4<i32>, 4>, lse: array<vec4<f32>, 4> }
// Coefficient tiles of a row-quad and each row's Σ coefficient · z.
struct Coef { q: Quad4, tz: vec4<f32> }

// Keys that are in the block and not a left-out duplicate of the row's positive.
fn keep4(row: u32, j: u32, id: i32, kid: vec4<i32>) -> vec4<bool> {
  let kj = vec4(j, j + 1u, j + 2u, j + 3u);
  var ok = kj < vec4(u.ke);
  if (MASK && u.diag != 0u) { ok = ok & ((kid != vec4(id)) | (kj == vec4(row))); }
  return ok;
}
fn key_lse4(j: u32) -> vec4<f32> {
  if (u.wk == 0.0) { return vec4(0.0); }
  let e = u.ke - 1u;
  return vec4(st[u.off_lse_k + min(j, e)], st[u.off_lse_k + min(j + 1u, e)],
              st[u.off_lse_k + min(j + 2u, e)], st[u.off_lse_k + min(j + 3u, e)]);
}
fn row_lse4(r: u32) -> vec4<f32> {
  if (u.wr == 0.0) { return vec4(0.0); }
  let e = u.rows - 1u;
  return vec4(st[u.off_lse_row + min(r, e)], st[u.off_lse_row + min(r + 1u, e)],
              st[u.off_lse_row + min(r + 2u, e)], st[u.off_lse_row + min(r + 3u, e)]);
}

// ∂L/∂z of one row against 4 keys (0 for keys left out), given the raw dot products t.
fn cf4(t: vec4<f32>, row: u32, sx: f32, id: i32, lr: f32, j: u32, sk: vec4<f32>, kid: vec4<i32>,
       lk: vec4<f32>, inv_tau: f32, g: f32) -> vec4<f32> {
  let z = logit4(t, sx, sk, inv_tau);
  var cf = vec4(0.0);
  if (u.wr != 0.0) { cf += u.wr * exp(z - vec4(lr)); }
  if (u.wk != 0.0) { cf += u.wk * exp(z - lk); }
  if (u.diag != 0u) {
    let kj = vec4(j, j + 1u, j + 2u, j + 3u);
    cf -= select(vec4(0.0), vec4(u.wr + u.wk), kj == vec4(row));
  }
  return select(vec4(0.0), cf * g, keep4(row, j, id, kid));
}

// One row: the coefficients of its 16 raw keys in ∂L/∂x̂ (rows of the 4 tiles) and Σ cf · z.
struct RowCoef { c0: vec4<f32>, c1: vec4<f32>, c2: vec4<f32>, c3: vec4<f32>, tz: f32 }
fn row_coef(row: u32, sx: f32, id: i32, lr: f32, j0: u32, kk: Keys, inv_tau: f32, g: f32,
            t0: vec4<f32>, t1: vec4<f32>, t2: vec4<f32>, t3: vec4<f32>) -> RowCoef {
  let a0 = cf4(t0, row, sx, id, lr, j0, kk.sk[0], kk.id[0], kk.lse[0], inv_tau, g);
  let a1 = cf4(t1, row, sx, id, lr, j0 + 4u, kk.sk[1], kk.id[1], kk.lse[1], inv_tau, g);
  let a2 = cf4(t2, row, sx, id, lr, j0 + 8u, kk.sk[2], kk.id[2], kk.lse[2], inv_tau, g);
  let a3 = cf4(t3, row, sx, id, lr, j0 + 12u, kk.sk[3], kk.id[3], kk.lse[3], inv_tau, g);
  let tz = dot(a0, logit4(t0, sx, kk.sk[0], inv_tau)) + dot(a1, logit4(t1, sx, kk.sk[1], inv_tau)) +
    dot(a2, logit4(t2, sx, kk.sk[2], inv_tau)) + dot(a3, logit4(t3, sx, kk.sk[3], inv_tau));
  return RowCoef(a0 * kk.sk[0] * inv_tau, a1 * kk.sk[1] * inv_tau, a2 * kk.sk[2] * inv_tau,
                 a3 * kk.sk[3] * inv_tau, tz);
}

fn quad_coef(q: Quad4, r: u32, j0: u32, kk: Keys, inv_tau: f32, g: f32) -> Coef {
  let sx = row_scale4(r);
  let id = row_id4(r);
  let lr = row_lse4(r);
  let a = row_coef(r, sx.x, id.x, lr.x, j0, kk, inv_tau, g, q.t[0][0], q.t[1][0], q.t[2][0],
                   q.t[3][0]);
  let b = row_coef(r + 1u, sx.y, id.y, lr.y, j0, kk, inv_tau, g, q.t[0][1], q.t[1][1], q.t[2][1],
                   q.t[3][1]);
  let c = row_coef(r + 2u, sx.z, id.z, lr.z, j0, kk, inv_tau, g, q.t[0][2], q.t[1][2], q.t[2][2],
                   q.t[3][2]);
  let d = row_coef(r + 3u, sx.w, id.w, lr.w, j0, kk, inv_tau, g, q.t[0][3], q.t[1][3], q.t[2][3],
                   q.t[3][3]);
  var o: Coef;
  o.q.t[0] = mat4x4<f32>(a.c0, b.c0, c.c0, d.c0);
  o.q.t[1] = mat4x4<f32>(a.c1, b.c1, c.c1, d.c1);
  o.q.t[2] = mat4x4<f32>(a.c2, b.c2, c.c2, d.c2);
  o.q.t[3] = mat4x4<f32>(a.c3, b.c3, c.c3, d.c3);
  o.tz = vec4(a.tz, b.tz, c.tz, d.tz);
  return o;
}

// gx rows r..r+3 over dims 4c..4c+3 += Σ_k coefficient tile k · keys of quad k.
fn add_grad(cq: Quad4, r: u32, c: u32, k0: mat4x4<f32>, k1: mat4x4<f32>, k2: mat4x4<f32>,
            k3: mat4x4<f32>) {
  let e = u.rows - 1u;
  var g = mat4x4<f32>(gx4[min(r, e) * u.d4 + c], gx4[min(r + 1u, e) * u.d4 + c],
                      gx4[min(r + 2u, e) * u.d4 + c], gx4[min(r + 3u, e) * u.d4 + c]);
  g = mma(g, cq.t[0], k0);
  g = mma(g, cq.t[1], k1);
  g = mma(g, cq.t[2], k2);
  g = mma(g, cq.t[3], k3);
  if (r < u.rows) { gx4[r * u.d4 + c] = g[0]; }
  if (r + 1u < u.rows) { gx4[(r + 1u) * u.d4 + c] = g[1]; }
  if (r + 2u < u.rows) { gx4[(r + 2u) * u.d4 + c] = g[2]; }
  if (r + 3u < u.rows) { gx4[(r + 3u) * u.d4 + c] = g[3]; }
}

// The last block's tail for rows r..r+3: τ partial sums, and the normalisation's gradient.
fn finish(r: u32, tz: vec4<f32>) {
  for (var i = 0u; i < 4u; i++) {
    let row = r + i;
    if (row >= u.rows) { return; }
    if (TAU) { tpart[u.off_t + row] += u.tw * tz[i]; }
    if (NORM && u.last != 0u) {
      // ĝ = gx is the gradient with respect to x̂ = s·x. Below EPS the scale is constant.
      let sn = st[u.off_x + row];
      var gdx = 0.0;
      var ss = 0.0;
      for (var c = 0u; c < u.d4; c++) {
        let xv = x4[row * u.d4 + c];
        gdx += dot(gx4[row * u.d4 + c], xv);
        ss += dot(xv, xv);
      }
      let proj = select(0.0, gdx * sn * sn, sqrt(ss) >= EPS);
      for (var c = 0u; c < u.d4; c++) {
        gx4[row * u.d4 + c] = sn * (gx4[row * u.d4 + c] - proj * x4[row * u.d4 + c]);
      }
    }
  }
}

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r0 = linear_id(wid, nwg, lid) * 16u;
  if (r0 >= u.rows) { return; }
  let inv_tau = 1.0 / st[0];
  let g = st[1];
  var tz0 = vec4(0.0);
  var tz1 = vec4(0.0);
  var tz2 = vec4(0.0);
  var tz3 = vec4(0.0);
  for (var j0 = u.kb; j0 < u.ke; j0 += 16u) {
    // Explicit zero stores: a declaration without initializer was not re-zeroed per iteration here.
    var q0 = Quad4();
    var q1 = Quad4();
    var q2 = Quad4();
    var q3 = Quad4();
    for (var c = 0u; c < u.d4; c++) {
      let b0 = transpose(kmat(j0, c));
      let b1 = transpose(kmat(j0 + 4u, c));
      let b2 = transpose(kmat(j0 + 8u, c));
      let b3 = transpose(kmat(j0 + 12u, c));
      q0 = quad4_mma(q0, xmat(r0, c), b0, b1, b2, b3);
      q1 = quad4_mma(q1, xmat(r0 + 4u, c), b0, b1, b2, b3);
      q2 = quad4_mma(q2, xmat(r0 + 8u, c), b0, b1, b2, b3);
      q3 = quad4_mma(q3, xmat(r0 + 12u, c), b0, b1, b2, b3);
    }
    let kk = Keys(array(key_scale4(j0), key_scale4(j0 + 4u), key_scale4(j0 + 8u),
                        key_scale4(j0 + 12u)),
                  array(key_id4(j0), key_id4(j0 + 4u), key_id4(j0 + 8u), key_id4(j0 + 12u)),
                  array(key_lse4(j0), key_lse4(j0 + 4u), key_lse4(j0 + 8u), key_lse4(j0 + 12u)));
    let c0 = quad_coef(q0, r0, j0, kk, inv_tau, g);
    let c1 = quad_coef(q1, r0 + 4u, j0, kk, inv_tau, g);
    let c2 = quad_coef(q2, r0 + 8u, j0, kk, inv_tau, g);
    let c3 = quad_coef(q3, r0 + 12u, j0, kk, inv_tau, g);
    tz0 += c0.tz;
    tz1 += c1.tz;
    tz2 += c2.tz;
    tz3 += c3.tz;
    for (var c = 0u; c < u.d4; c++) {
      let k0 = kmat(j0, c);
      let k1 = kmat(j0 + 4u, c);
      let k2 = kmat(j0 + 8u, c);
      let k3 = kmat(j0 + 12u, c);
      add_grad(c0.q, r0, c, k0, k1, k2, k3);
      add_grad(c1.q, r0 + 4u, c, k0, k1, k2, k3);
      add_grad(c2.q, r0 + 8u, c, k0, k1, k2, k3);
      add_grad(c3.q, r0 + 12u, c, k0, k1, k2, k3);
    }
  }
  finish(r0, tz0);
  finish(r0 + 4u, tz1);
  finish(r0 + 8u, tz2);
  finish(r0 + 12u, tz3);
}
