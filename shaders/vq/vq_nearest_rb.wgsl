// Fused nearest-code search, register-blocked, for adapters that run compute on a CPU
// (llvmpipe/lavapipe, SwiftShader), where workgroup memory and barriers are expensive and
// every storage load is a per-lane loop (see matmul_regblock.wgsl for the measurements).
// Each invocation owns 4·RM consecutive rows of one sub-space b and walks all codes in
// chunks of 4·RN: the (4·RM) × (4·RN) block of dot products x·e is accumulated in registers
// (mat4x4 tiles, 4 values of d per step, each loaded vec4 feeding 16·RN or 16·RM
// multiply-adds), then turned into scores ‖e‖² − 2x·e (L2) or −x·e/‖e‖ (COSINE) and folded
// into a running (score, code) best per row. The N×M matrix never exists. Codes are visited
// in increasing order and only a strictly smaller score replaces the best: ties → lowest index.
//
// Defines: RM, RN (1, 2, 4, 8; the wrapper uses ≤ 4); VEC: x_row, x_bat and d are multiples of 4, so rows load as
// vec4 (x4 / e4 view the same buffers as x / codes); KTAIL: d % 4 != 0 (the last chunk is
// masked); COSINE; DIST (write distances: ‖x‖² + score, or 1 + score/‖x‖).
// Accumulators are written out with constant indices under RM/RN guards (loops over them would
// not be unrolled by the driver and would leave them in memory).
// Shared helpers: common/tile4.wgsl, common/quad.wgsl.

// Which of the chunk's 4 k's exist.
fn kmask(k0: u32) -> vec4<bool> {
  return vec4<bool>(true, k0 + 1u < u.d, k0 + 2u < u.d, k0 + 3u < u.d);
}

fn masked(t: mat4x4<f32>, k0: u32) -> mat4x4<f32> {
  let z = vec4(0.0);
  let km = kmask(k0);
  return mat4x4<f32>(select(z, t[0], km), select(z, t[1], km), select(z, t[2], km),
                     select(z, t[3], km));
}

// Element k (clamped) of the vector starting at `base`, 4 of them from k0.
fn x_vec(base: u32, k0: u32) -> vec4<f32> {
  let d1 = u.d - 1u;
  return vec4(x[base + min(k0, d1)], x[base + min(k0 + 1u, d1)], x[base + min(k0 + 2u, d1)],
              x[base + min(k0 + 3u, d1)]);
}
fn e_vec(base: u32, k0: u32) -> vec4<f32> {
  let d1 = u.d - 1u;
  return vec4(codes[base + min(k0, d1)], codes[base + min(k0 + 1u, d1)],
              codes[base + min(k0 + 2u, d1)], codes[base + min(k0 + 3u, d1)]);
}

// Rows r..r+3 (clamped to the last row) over k0..k0+3: at[i] = row r+i.
fn load_x(xb: u32, r: u32, k0: u32) -> mat4x4<f32> {
  let n1 = u.n - 1u;
  let o0 = min(r, n1) * u.x_row + xb;
  let o1 = min(r + 1u, n1) * u.x_row + xb;
  let o2 = min(r + 2u, n1) * u.x_row + xb;
  let o3 = min(r + 3u, n1) * u.x_row + xb;
  if (VEC) {
    return mat4x4<f32>(x4[(o0 + k0) / 4u], x4[(o1 + k0) / 4u], x4[(o2 + k0) / 4u],
                       x4[(o3 + k0) / 4u]);
  }
  let t = mat4x4<f32>(x_vec(o0, k0), x_vec(o1, k0), x_vec(o2, k0), x_vec(o3, k0));
  if (KTAIL) { return masked(t, k0); }
  return t;
}

// Codes c..c+3 (clamped) over k0..k0+3, transposed: bs[kk] = dim k0+kk over the 4 codes.
fn load_e_tile(cb: u32, c: u32, k0: u32) -> mat4x4<f32> {
  let m1 = u.m - 1u;
  let o0 = (cb + min(c, m1)) * u.d;
  let o1 = (cb + min(c + 1u, m1)) * u.d;
  let o2 = (cb + min(c + 2u, m1)) * u.d;
  let o3 = (cb + min(c + 3u, m1)) * u.d;
  if (VEC) {
    return transpose(mat4x4<f32>(e4[(o0 + k0) / 4u], e4[(o1 + k0) / 4u], e4[(o2 + k0) / 4u],
                                 e4[(o3 + k0) / 4u]));
  }
  var t = mat4x4<f32>(e_vec(o0, k0), e_vec(o1, k0), e_vec(o2, k0), e_vec(o3, k0));
  if (KTAIL) { t = masked(t, k0); }
  return transpose(t);
}

fn load_e(cb: u32, c0: u32, k0: u32) -> Quad {
  var q: Quad;
  q.t[0] = load_e_tile(cb, c0, k0);
  if (RN > 1) { q.t[1] = load_e_tile(cb, c0 + 4u, k0); }
  if (RN > 2) { q.t[2] = load_e_tile(cb, c0 + 8u, k0); }
  if (RN > 3) { q.t[3] = load_e_tile(cb, c0 + 12u, k0); }
  if (RN > 4) { q.t[4] = load_e_tile(cb, c0 + 16u, k0); }
  if (RN > 5) { q.t[5] = load_e_tile(cb, c0 + 20u, k0); }
  if (RN > 6) { q.t[6] = load_e_tile(cb, c0 + 24u, k0); }
  if (RN > 7) { q.t[7] = load_e_tile(cb, c0 + 28u, k0); }
  return q;
}

// Folds code `code` (dot products with the 4 rows in `dt`) into the rows' running best.
fn fold(dt: vec4<f32>, code: u32, cb: u32, bv: ptr<function, vec4<f32>>,
        bi: ptr<function, vec4<i32>>) {
  if (code >= u.m) { return; }
  let en = enorm[cb + code];
  var s: vec4<f32>;
  if (COSINE) { s = -dt * en; } else { s = en - 2.0 * dt; }
  let upd = (*bi < vec4<i32>(0)) | (s < *bv);
  *bv = select(*bv, s, upd);
  *bi = select(*bi, vec4<i32>(i32(code)), upd);
}

fn fold_tile(t: mat4x4<f32>, c: u32, cb: u32, bv: ptr<function, vec4<f32>>,
             bi: ptr<function, vec4<i32>>) {
  let tt = transpose(t); // tt[j] = code c+j against the 4 rows
  fold(tt[0], c, cb, bv, bi);
  fold(tt[1], c + 1u, cb, bv, bi);
  fold(tt[2], c + 2u, cb, bv, bi);
  fold(tt[3], c + 3u, cb, bv, bi);
}

fn fold_quad(q: Quad, c0: u32, cb: u32, bv: ptr<function, vec4<f32>>,
             bi: ptr<function, vec4<i32>>) {
  fold_tile(q.t[0], c0, cb, bv, bi);
  if (RN > 1) { fold_tile(q.t[1], c0 + 4u, cb, bv, bi); }
  if (RN > 2) { fold_tile(q.t[2], c0 + 8u, cb, bv, bi); }
  if (RN > 3) { fold_tile(q.t[3], c0 + 12u, cb, bv, bi); }
  if (RN > 4) { fold_tile(q.t[4], c0 + 16u, cb, bv, bi); }
  if (RN > 5) { fold_tile(q.t[5], c0 + 20u, cb, bv, bi); }
  if (RN > 6) { fold_tile(q.t[6], c0 + 24u, cb, bv, bi); }
  if (RN > 7) { fold_tile(q.t[7], c0 + 28u, cb, bv, bi); }
}

fn store_row(v: f32, k: i32, r: u32, b: u32) {
  if (r >= u.n) { return; }
  let o = r * u.nb + b;
  idx[o] = k;
  if (DIST) {
    if (COSINE) { dist[o] = 1.0 + v * xnorm[o]; } else { dist[o] = max(xnorm[o] + v, 0.0); }
  }
}

fn store(bv: vec4<f32>, bi: vec4<i32>, r: u32, b: u32) {
  store_row(bv[0], bi[0], r, b);
  store_row(bv[1], bi[1], r + 1u, b);
  store_row(bv[2], bi[2], r + 2u, b);
  store_row(bv[3], bi[3], r + 3u, b);
}

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let inv = linear_id(wid, nwg, lid);
  let nrb = (u.n + 4u * RM - 1u) / (4u * RM);
  if (inv >= nrb * u.nb) { return; }
  let b = inv / nrb;
  let row0 = (inv % nrb) * (4u * RM);
  let xb = b * u.x_bat;
  let cb = b * u.m;
  let none = vec4<i32>(-1);
  var bv0 = vec4(0.0);
  var bv1 = vec4(0.0);
  var bv2 = vec4(0.0);
  var bv3 = vec4(0.0);
  var bv4 = vec4(0.0);
  var bv5 = vec4(0.0);
  var bv6 = vec4(0.0);
  var bv7 = vec4(0.0);
  var bi0 = none;
  var bi1 = none;
  var bi2 = none;
  var bi3 = none;
  var bi4 = none;
  var bi5 = none;
  var bi6 = none;
  var bi7 = none;
  for (var c0 = 0u; c0 < u.m; c0 += 4u * RN) {
    // Explicitly zeroed: a declaration in a loop is not re-initialised by every compiler.
    var q0 = Quad();
    var q1 = Quad();
    var q2 = Quad();
    var q3 = Quad();
    var q4 = Quad();
    var q5 = Quad();
    var q6 = Quad();
    var q7 = Quad();
    for (var k0 = 0u; k0 < u.d; k0 += 4u) {
      let eq = load_e(cb, c0, k0);
      q0 = quad_mma(q0, load_x(xb, row0, k0), eq);
      if (RM > 1) { q1 = quad_mma(q1, load_x(xb, row0 + 4u, k0), eq); }
      if (RM > 2) { q2 = quad_mma(q2, load_x(xb, row0 + 8u, k0), eq); }
      if (RM > 3) { q3 = quad_mma(q3, load_x(xb, row0 + 12u, k0), eq); }
      if (RM > 4) { q4 = quad_mma(q4, load_x(xb, row0 + 16u, k0), eq); }
      if (RM > 5) { q5 = quad_mma(q5, load_x(xb, row0 + 20u, k0), eq); }
      if (RM > 6) { q6 = quad_mma(q6, load_x(xb, row0 + 24u, k0), eq); }
      if (RM > 7) { q7 = quad_mma(q7, load_x(xb, row0 + 28u, k0), eq); }
    }
    fold_quad(q0, c0, cb, &bv0, &bi0);
    if (RM > 1) { fold_quad(q1, c0, cb, &bv1, &bi1); }
    if (RM > 2) { fold_quad(q2, c0, cb, &bv2, &bi2); }
    if (RM > 3) { fold_quad(q3, c0, cb, &bv3, &bi3); }
    if (RM > 4) { fold_quad(q4, c0, cb, &bv4, &bi4); }
    if (RM > 5) { fold_quad(q5, c0, cb, &bv5, &bi5); }
    if (RM > 6) { fold_quad(q6, c0, cb, &bv6, &bi6); }
    if (RM > 7) { fold_quad(q7, c0, cb, &bv7, &bi7); }
  }
  store(bv0, bi0, row0, b);
  if (RM > 1) { store(bv1, bi1, row0 + 4u, b); }
  if (RM > 2) { store(bv2, bi2, row0 + 8u, b); }
  if (RM > 3) { store(bv3, bi3, row0 + 12u, b); }
  if (RM > 4) { store(bv4, bi4, row0 + 16u, b); }
  if (RM > 5) { store(bv5, bi5, row0 + 20u, b); }
  if (RM > 6) { store(bv6, bi6, row0 + 24u, b); }
  if (RM > 7) { store(bv7, bi7, row0 + 28u, b); }
}
