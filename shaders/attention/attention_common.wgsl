// Helpers shared by the fused attention kernels (attention_fwd, attention_bwd_dq,
// attention_bwd_dkv, after tile4.wgsl; their specs list it in `lib`): option bits, row
// offsets, the dropout hash, tile reductions, clamped vec4 loads of q, k and v, masked scores
// and probabilities. Needs the bindings q, k, v (vec4 arrays) and bias, the uniforms of
// src/ops/attention.ts and the defines D_QK, D_V, VQ, VV.

const DQ4 = (D_QK + 3) / 4;
const DV4 = (D_V + 3) / 4;

struct KQ { t: array<mat4x4<f32>, 8> }

// Options, bits of u.flags (workgroup-uniform branches; kept out of the pipeline key so that
// few pipelines need compiling).

// Offset of row i (of a sequence of length len) of head h in batch b, for row width w.

// lowbias32 (Chris Wellons): a cheap integer hash with good avalanche, four at a time.

fn rowmax(t: mat4x4<f32>) -> vec4<f32> {
  return vec4<f32>(max(max(t[0].x, t[0].y), max(t[0].z, t[0].w)),
                   max(max(t[1].x, t[1].y), max(t[1].z, t[1].w)),
                   max(max(t[2].x, t[2].y), max(t[2].z, t[2].w)),
                   max(max(t[3].x, t[3].y), max(t[3].z, t[3].w)));
}
fn rowsum(t: mat4x4<f32>) -> vec4<f32> {
  let one = vec4<f32>(1.0);
  return vec4<f32>(dot(t[0], one), dot(t[1], one), dot(t[2], one), dot(t[3], one));
}

// Row i of t times s[i].
fn scale_rows(t: mat4x4<f32>, s: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(t[0] * s.x, t[1] * s.y, t[2] * s.z, t[3] * s.w);
}

// Masked scores (never produced by finite inputs; exp(NEG − m) = 0 for any finite m).
const NEG = -3.0e38;

// exp(x − m) per row (m: one value per row), 0 for masked scores.
fn probs(x: mat4x4<f32>, m: vec4<f32>) -> mat4x4<f32> {
  let z = vec4<f32>(0.0);
  let lo = vec4<f32>(-1.0e38);
  return mat4x4<f32>(select(z, exp(x[0] - vec4<f32>(m.x)), x[0] > lo),
                     select(z, exp(x[1] - vec4<f32>(m.y)), x[1] > lo),
                     select(z, exp(x[2] - vec4<f32>(m.z)), x[2] > lo),
                     select(z, exp(x[3] - vec4<f32>(m.w)), x[3] > lo));
}

// Rows r0..r0+3 of `q` (clamped to the last row) × elements 4c..4c+3 (0 past the row).
fn ld_q(b: u32, h: u32, r0: u32, c: u32) -> mat4x4<f32> {
  let n1 = u.lq - 1u;
  let o0 = row_off(b, h, min(r0, n1), u.lq, D_QK);
  let o1 = row_off(b, h, min(r0 + 1u, n1), u.lq, D_QK);
  let o2 = row_off(b, h, min(r0 + 2u, n1), u.lq, D_QK);
  let o3 = row_off(b, h, min(r0 + 3u, n1), u.lq, D_QK);
  if (VQ) {
    return mat4x4<f32>(q[o0 / 4u + c], q[o1 / 4u + c], q[o2 / 4u + c], q[o3 / 4u + c]);
  }
  return mat4x4<f32>(row4_q(o0, c), row4_q(o1, c), row4_q(o2, c), row4_q(o3, c));
}
fn el_q(i: u32) -> f32 { return q[i / 4u][i % 4u]; }
fn row4_q(o: u32, c: u32) -> vec4<f32> {
  let d = 4u * c;
  let e = o + D_QK - 1u;
  return vec4<f32>(el_q(min(o + d, e)), select(0.0, el_q(min(o + d + 1u, e)), d + 1u < D_QK),
    select(0.0, el_q(min(o + d + 2u, e)), d + 2u < D_QK),
    select(0.0, el_q(min(o + d + 3u, e)), d + 3u < D_QK));
}

// Rows r0..r0+3 of `k` (clamped to the last row) × elements 4c..4c+3 (0 past the row).
fn ld_k(b: u32, h: u32, r0: u32, c: u32) -> mat4x4<f32> {
  let n1 = u.lk - 1u;
  let o0 = row_off(b, h, min(r0, n1), u.lk, D_QK);
  let o1 = row_off(b, h, min(r0 + 1u, n1), u.lk, D_QK);
  let o2 = row_off(b, h, min(r0 + 2u, n1), u.lk, D_QK);
  let o3 = row_off(b, h, min(r0 + 3u, n1), u.lk, D_QK);
  if (VQ) {
    return mat4x4<f32>(k[o0 / 4u + c], k[o1 / 4u + c], k[o2 / 4u + c], k[o3 / 4u + c]);
  }
  return mat4x4<f32>(row4_k(o0, c), row4_k(o1, c), row4_k(o2, c), row4_k(o3, c));
}
fn el_k(i: u32) -> f32 { return k[i / 4u][i % 4u]; }
fn row4_k(o: u32, c: u32) -> vec4<f32> {
  let d = 4u * c;
  let e = o + D_QK - 1u;
  return vec4<f32>(el_k(min(o + d, e)), select(0.0, el_k(min(o + d + 1u, e)), d + 1u < D_QK),
    select(0.0, el_k(min(o + d + 2u, e)), d + 2u < D_QK),
    select(0.0, el_k(min(o + d + 3u, e)), d + 3u < D_QK));
}

// Rows r0..r0+3 of `v` (clamped to the last row) × elements 4c..4c+3 (0 past the row).
fn ld_v(b: u32, h: u32, r0: u32, c: u32) -> mat4x4<f32> {
  let n1 = u.lk - 1u;
  let o0 = row_off(b, h, min(r0, n1), u.lk, D_V);
  let o1 = row_off(b, h, min(r0 + 1u, n1), u.lk, D_V);
  let o2 = row_off(b, h, min(r0 + 2u, n1), u.lk, D_V);
  let o3 = row_off(b, h, min(r0 + 3u, n1), u.lk, D_V);
  if (VV) {
    return mat4x4<f32>(v[o0 / 4u + c], v[o1 / 4u + c], v[o2 / 4u + c], v[o3 / 4u + c]);
  }
  return mat4x4<f32>(row4_v(o0, c), row4_v(o1, c), row4_v(o2, c), row4_v(o3, c));
}
fn el_v(i: u32) -> f32 { return v[i / 4u][i % 4u]; }
fn row4_v(o: u32, c: u32) -> vec4<f32> {
  let d = 4u * c;
  let e = o + D_V - 1u;
  return vec4<f32>(el_v(min(o + d, e)), select(0.0, el_v(min(o + d + 1u, e)), d + 1u < D_V),
    select(0.0, el_v(min(o + d + 2u, e)), d + 2u < D_V),
    select(0.0, el_v(min(o + d + 3u, e)), d + 3u < D_V));
}

// Bias of keys t (main key t − npre) for the rows with bias offsets bo; 0 for prefix keys.
fn bias_row(base: u32, t: vec4<u32>) -> vec4<f32> {
  let nm1 = u.lk - u.npre - 1u;
  let sj = at8(u.bst, 3u);
  let is_main = (t >= vec4<u32>(u.npre)) & (t < vec4<u32>(u.lk));
  let j = min(t - vec4<u32>(u.npre), vec4<u32>(nm1)); // wraps for prefix keys: clamped, unused
  return select(vec4<f32>(0.0), vec4<f32>(bias[base + j.x * sj], bias[base + j.y * sj],
    bias[base + j.z * sj], bias[base + j.w * sj]), is_main);
}

// Scaled scores of keys tq..tq+3 plus bias, NEG where key t is not below the row's limit.
fn finish(x: mat4x4<f32>, tq: u32, klim: vec4<u32>, bo: vec4<u32>) -> mat4x4<f32> {
  let t = vec4<u32>(tq, tq + 1u, tq + 2u, tq + 3u);
  var r = x * u.scale;
  if (has_bias()) {
    r = r + mat4x4<f32>(bias_row(bo.x, t), bias_row(bo.y, t), bias_row(bo.z, t), bias_row(bo.w, t));
  }
  let n = vec4<f32>(NEG);
  return mat4x4<f32>(select(n, r[0], t < vec4<u32>(klim.x)), select(n, r[1], t < vec4<u32>(klim.y)),
                     select(n, r[2], t < vec4<u32>(klim.z)), select(n, r[3], t < vec4<u32>(klim.w)));
}

struct Pair { a: mat4x4<f32>, b: mat4x4<f32> }
