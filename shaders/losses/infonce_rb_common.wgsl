// Helpers shared by the register-blocked InfoNCE kernels (infonce_fwd_rb, infonce_bwd_rb;
// after tile4.wgsl): operand tiles, per-row/key scales and ids, and the masked logit tiles.

const NEG_INF = -3.0e38;

// Tiles of one row-quad against the block's 4 key-quads: t[k][i] = row i over keys 4k..4k+3.
struct Quad4 { t: array<mat4x4<f32>, 4> }

// Rows r..r+3 (clamped to the last) of a [n, d] matrix over dims 4c..4c+3.
fn xmat(r: u32, c: u32) -> mat4x4<f32> {
  let e = u.rows - 1u;
  return mat4x4<f32>(x4[min(r, e) * u.d4 + c], x4[min(r + 1u, e) * u.d4 + c],
                     x4[min(r + 2u, e) * u.d4 + c], x4[min(r + 3u, e) * u.d4 + c]);
}

fn kmat(j: u32, c: u32) -> mat4x4<f32> {
  let e = u.ke - 1u;
  return mat4x4<f32>(k4[min(j, e) * u.d4 + c], k4[min(j + 1u, e) * u.d4 + c],
                     k4[min(j + 2u, e) * u.d4 + c], k4[min(j + 3u, e) * u.d4 + c]);
}

fn quad4_mma(q: Quad4, a: mat4x4<f32>, b0: mat4x4<f32>, b1: mat4x4<f32>, b2: mat4x4<f32>,
            b3: mat4x4<f32>) -> Quad4 {
  var r: Quad4;
  r.t[0] = mma(q.t[0], a, b0);
  r.t[1] = mma(q.t[1], a, b1);
  r.t[2] = mma(q.t[2], a, b2);
  r.t[3] = mma(q.t[3], a, b3);
  return r;
}

fn key_scale4(j: u32) -> vec4<f32> {
  if (!NORM) { return vec4(1.0); }
  let e = u.ke - 1u;
  return vec4(st[u.off_k + min(j, e)], st[u.off_k + min(j + 1u, e)], st[u.off_k + min(j + 2u, e)],
              st[u.off_k + min(j + 3u, e)]);
}

fn key_id4(j: u32) -> vec4<i32> {
  if (!MASK || u.diag == 0u) { return vec4(0); }
  let e = u.ke - 1u;
  return vec4(ids[min(j, e)], ids[min(j + 1u, e)], ids[min(j + 2u, e)], ids[min(j + 3u, e)]);
}

fn row_scale4(r: u32) -> vec4<f32> {
  if (!NORM) { return vec4(1.0); }
  let e = u.rows - 1u;
  return vec4(st[u.off_x + min(r, e)], st[u.off_x + min(r + 1u, e)], st[u.off_x + min(r + 2u, e)],
              st[u.off_x + min(r + 3u, e)]);
}

fn row_id4(r: u32) -> vec4<i32> {
  if (!MASK) { return vec4(0); }
  let e = u.rows - 1u;
  return vec4(ids[min(r, e)], ids[min(r + 1u, e)], ids[min(r + 2u, e)], ids[min(r + 3u, e)]);
}

fn hmax(v: vec4<f32>) -> f32 { return max(max(v.x, v.y), max(v.z, v.w)); }

// Logits of one row against 4 keys j..j+3 (raw dot products `t`): one definition for both
// kernels, so the forward and the backward see bit-identical values.
fn logit4(t: vec4<f32>, sx: f32, sk: vec4<f32>, inv_tau: f32) -> vec4<f32> {
  return t * (sx * sk) * inv_tau;
}
