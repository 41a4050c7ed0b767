// C[bt] = act(op(A[bt]) · op(B[bt]) + bias), register-blocked, for adapters that run compute on a
// CPU (llvmpipe/lavapipe, SwiftShader). There every invocation is one SIMD lane, a storage load
// costs a per-lane loop, and a workgroup barrier is a coroutine switch; so no workgroup memory:
// each invocation keeps a (4·RM) × (4·RN) block of C in registers and walks K in chunks of 4,
// and every loaded vec4 feeds 16·RN (from A) or 16·RM (from B) multiply-adds.
//
// The block is RM row-quads × RN column-quads of 4×4 tiles held as mat4x4 (row i of a tile is a
// vec4 over its 4 columns). Everything is written out with constant indices, guarded by the
// RM/RN defines: loops over accumulators would not be unrolled by the driver and would leave
// them in memory.
//
// Defines: RM, RN (1..8); TRANS_A (A stored [K, M]), TRANS_B (B stored [N, K]); VA / VB: load
// vec4s along the contiguous dimension of A / B (the wrapper sets them when it is a multiple of
// 4); KTAIL: K % 4 != 0, so the last chunk is masked; BIAS: add bias[col]; ACT: 0 none, 1 relu,
// 2 gelu, 3 tanh, 4 sigmoid. C is written as vec4 rows of width u.n4 = ceil(N / 4) (the wrapper
// crops the padding when N % 4 != 0). Rows and columns past the edge are clamped on load and
// skipped on store.
// Shared helpers: common/tile4.wgsl, common/quad.wgsl.

// Which of the chunk's 4 k's exist (all of them unless KTAIL).
fn kmask(k0: u32) -> vec4<bool> {
  return vec4<bool>(true, k0 + 1u < u.k, k0 + 2u < u.k, k0 + 3u < u.k);
}

fn a_elem(base: u32, r: u32, k: u32) -> f32 {
  if (TRANS_A) { return a[base + min(k, u.k - 1u) * u.m + r]; }
  return a[base + r * u.k + min(k, u.k - 1u)];
}

fn a_row(base: u32, r: u32, k0: u32) -> vec4<f32> {
  return vec4(a_elem(base, r, k0), a_elem(base, r, k0 + 1u), a_elem(base, r, k0 + 2u),
              a_elem(base, r, k0 + 3u));
}

// A rows r..r+3 over k0..k0+3, as columns (at[i] = row r+i over k).
fn load_a(base: u32, r: u32, k0: u32) -> mat4x4<f32> {
  let m1 = u.m - 1u;
  if (VA && !TRANS_A) {
    let o = (base + k0) / 4u;
    let k4 = u.k / 4u;
    return mat4x4<f32>(a4[o + min(r, m1) * k4], a4[o + min(r + 1u, m1) * k4],
                       a4[o + min(r + 2u, m1) * k4], a4[o + min(r + 3u, m1) * k4]);
  }
  if (VA && TRANS_A) {
    // A is [K, M] with M % 4 == 0: one vec4 per k holds the 4 rows.
    let o = (base + min(r, u.m - 4u)) / 4u;
    let m4 = u.m / 4u;
    var t = transpose(mat4x4<f32>(a4[o + min(k0, u.k - 1u) * m4], a4[o + min(k0 + 1u, u.k - 1u) * m4],
                                  a4[o + min(k0 + 2u, u.k - 1u) * m4],
                                  a4[o + min(k0 + 3u, u.k - 1u) * m4]));
    if (KTAIL) {
      let z = vec4(0.0);
      let km = kmask(k0);
      t = mat4x4<f32>(select(z, t[0], km), select(z, t[1], km), select(z, t[2], km), select(z, t[3], km));
    }
    return t;
  }
  var t = mat4x4<f32>(a_row(base, min(r, m1), k0), a_row(base, min(r + 1u, m1), k0),
                      a_row(base, min(r + 2u, m1), k0), a_row(base, min(r + 3u, m1), k0));
  if (KTAIL) {
    let z = vec4(0.0);
    let km = kmask(k0);
    t = mat4x4<f32>(select(z, t[0], km), select(z, t[1], km), select(z, t[2], km), select(z, t[3], km));
  }
  return t;
}

fn b_elem(base: u32, k: u32, c: u32) -> f32 {
  let cc = min(c, u.n - 1u);
  if (TRANS_B) { return b[base + cc * u.k + min(k, u.k - 1u)]; }
  return b[base + min(k, u.k - 1u) * u.n + cc];
}

fn b_row(base: u32, k: u32, c: u32) -> vec4<f32> {
  return vec4(b_elem(base, k, c), b_elem(base, k, c + 1u), b_elem(base, k, c + 2u),
              b_elem(base, k, c + 3u));
}

// B rows k0..k0+3 over the 4 columns from 4·c4 (bs[kk] = row k0+kk over the columns).
fn load_b_tile(base: u32, k0: u32, c4: u32) -> mat4x4<f32> {
  var t: mat4x4<f32>;
  if (VB && !TRANS_B) {
    let n4 = u.n / 4u;
    let o = base / 4u + min(c4, n4 - 1u);
    t = mat4x4<f32>(b4[o + min(k0, u.k - 1u) * n4], b4[o + min(k0 + 1u, u.k - 1u) * n4],
                    b4[o + min(k0 + 2u, u.k - 1u) * n4], b4[o + min(k0 + 3u, u.k - 1u) * n4]);
  } else if (VB && TRANS_B) {
    // B is [N, K] with K % 4 == 0: one vec4 per column holds the chunk's 4 k's.
    let o = (base + k0) / 4u;
    let k4 = u.k / 4u;
    let n1 = u.n - 1u;
    let c = 4u * c4;
    return transpose(mat4x4<f32>(b4[o + min(c, n1) * k4], b4[o + min(c + 1u, n1) * k4],
                                 b4[o + min(c + 2u, n1) * k4], b4[o + min(c + 3u, n1) * k4]));
  } else {
    let c = 4u * c4;
    t = mat4x4<f32>(b_row(base, k0, c), b_row(base, k0 + 1u, c), b_row(base, k0 + 2u, c),
                    b_row(base, k0 + 3u, c));
  }
  if (KTAIL) {
    // Rows past K are zeroed too, so that a clamped Inf there cannot turn into 0·Inf = NaN.
    let z = vec4(0.0);
    let km = kmask(k0);
    t = mat4x4<f32>(t[0], select(z, t[1], km.y), select(z, t[2], km.z), select(z, t[3], km.w));
  }
  return t;
}

fn load_b(base: u32, k0: u32, c4: u32) -> Quad {
  var q: Quad;
  q.t[0] = load_b_tile(base, k0, c4);
  if (RN > 1) { q.t[1] = load_b_tile(base, k0, c4 + 1u); }
  if (RN > 2) { q.t[2] = load_b_tile(base, k0, c4 + 2u); }
  if (RN > 3) { q.t[3] = load_b_tile(base, k0, c4 + 3u); }
  if (RN > 4) { q.t[4] = load_b_tile(base, k0, c4 + 4u); }
  if (RN > 5) { q.t[5] = load_b_tile(base, k0, c4 + 5u); }
  if (RN > 6) { q.t[6] = load_b_tile(base, k0, c4 + 6u); }
  if (RN > 7) { q.t[7] = load_b_tile(base, k0, c4 + 7u); }
  return q;
}

fn act(x: vec4<f32>) -> vec4<f32> {
  switch (ACT) {
    case 1: { return max(x, vec4(0.0)); }
    case 2: {
      // GELU, erf form via Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7), as shaders/unary.wgsl.
      let z = x * 0.70710678118654752;
      let t = 1.0 / (1.0 + 0.3275911 * abs(z));
      let p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
      return 0.5 * x * (1.0 + sign(z) * (1.0 - p * exp(-z * z)));
    }
    case 3: {
      let e = exp(-2.0 * abs(x));
      return sign(x) * (1.0 - e) / (1.0 + e);
    }
    case 4: {
      let e = exp(-abs(x));
      return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= vec4(0.0));
    }
    default: { return x; }
  }
}

// Bias, activation and store of the tile at rows r.., columns 4·c4.. (row r exists).
fn store_tile(t: mat4x4<f32>, cbase: u32, r: u32, c4: u32) {
  if (c4 >= u.n4) { return; }
  var bv = vec4(0.0);
  if (BIAS) {
    let c = 4u * c4;
    let n1 = u.n - 1u;
    bv = vec4(bias[min(c, n1)], bias[min(c + 1u, n1)], bias[min(c + 2u, n1)], bias[min(c + 3u, n1)]);
  }
  let o = cbase + r * u.n4 + c4;
  c[o] = act(t[0] + bv);
  if (r + 1u < u.m) { c[o + u.n4] = act(t[1] + bv); }
  if (r + 2u < u.m) { c[o + 2u * u.n4] = act(t[2] + bv); }
  if (r + 3u < u.m) { c[o + 3u * u.n4] = act(t[3] + bv); }
}

fn store_quad(q: Quad, cbase: u32, r: u32, c4: u32) {
  if (r >= u.m) { return; }
  store_tile(q.t[0], cbase, r, c4);
  if (RN > 1) { store_tile(q.t[1], cbase, r, c4 + 1u); }
  if (RN > 2) { store_tile(q.t[2], cbase, r, c4 + 2u); }
  if (RN > 3) { store_tile(q.t[3], cbase, r, c4 + 3u); }
  if (RN > 4) { store_tile(q.t[4], cbase, r, c4 + 4u); }
  if (RN > 5) { store_tile(q.t[5], cbase, r, c4 + 5u); }
  if (RN > 6) { store_tile(q.t[6], cbase, r, c4 + 6u); }
  if (RN > 7) { store_tile(q.t[7], cbase, r, c4 + 7u); }
}

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  // Blocks in x (folded into (x, y) past 65535 workgroups), batch in z.
  let blk = linear_id(wid, nwg, lid);
  let row0 = (blk / u.nbn) * (4u * RM);
  let col4 = (blk % u.nbn) * RN;
  if (row0 >= u.m) { return; }
  let bt = wid.z;
  let abase = bt * u.stride_a;
  let bbase = bt * u.stride_b;
  var q0: Quad;
  var q1: Quad;
  var q2: Quad;
  var q3: Quad;
  var q4: Quad;
  var q5: Quad;
  var q6: Quad;
  var q7: Quad;
  for (var k0 = 0u; k0 < u.k; k0 += 4u) {
    let bq = load_b(bbase, k0, col4);
    q0 = quad_mma(q0, load_a(abase, row0, k0), bq);
    if (RM > 1) { q1 = quad_mma(q1, load_a(abase, row0 + 4u, k0), bq); }
    if (RM > 2) { q2 = quad_mma(q2, load_a(abase, row0 + 8u, k0), bq); }
    if (RM > 3) { q3 = quad_mma(q3, load_a(abase, row0 + 12u, k0), bq); }
    if (RM > 4) { q4 = quad_mma(q4, load_a(abase, row0 + 16u, k0), bq); }
    if (RM > 5) { q5 = quad_mma(q5, load_a(abase, row0 + 20u, k0), bq); }
    if (RM > 6) { q6 = quad_mma(q6, load_a(abase, row0 + 24u, k0), bq); }
    if (RM > 7) { q7 = quad_mma(q7, load_a(abase, row0 + 28u, k0), bq); }
  }
  let cbase = bt * u.m * u.n4;
  store_quad(q0, cbase, row0, col4);
  if (RM > 1) { store_quad(q1, cbase, row0 + 4u, col4); }
  if (RM > 2) { store_quad(q2, cbase, row0 + 8u, col4); }
  if (RM > 3) { store_quad(q3, cbase, row0 + 12u, col4); }
  if (RM > 4) { store_quad(q4, cbase, row0 + 16u, col4); }
  if (RM > 5) { store_quad(q5, cbase, row0 + 20u, col4); }
  if (RM > 6) { store_quad(q6, cbase, row0 + 24u, col4); }
  if (RM > 7) { store_quad(q7, cbase, row0 + 28u, col4); }
}
