// Fused attention backward, query side: dq = scale · Σ_j ds_ij k_j with
//   p_ij = exp(s_ij − lse_i) (recomputed from the saved log-sum-exp, no stored probabilities),
//   dp_ij = dO_i · v_j (times the dropout mask and 1/(1−rate)),  ds_ij = p_ij (dp_ij − Δ_i),
// Δ_i = dO_i · O_i from attention_bwd_delta. Register-blocked like attention_fwd.wgsl (read
// its header): invocation (batch·head, RM row quads, column group) holds 4·RM rows × RC column
// quads of dq and streams over the visible keys in blocks of 32, recomputing the score and dp
// tiles per column group. With WRITE_DS, group 0 also writes ds of the main keys to `ds_out`
// [B·H, Lq, Lk − npre] (the bias gradient; the host zeroes it first, since masked blocks are
// skipped). A fully masked row has no visible key: dq = 0.
//
// Defines: D_QK, D_V, RC (1..16), RM (1..2), VQ, VV; options (incl. write_ds) are bits of
// u.flags.

const DQ4 = (D_QK + 3) / 4;
const DV4 = (D_V + 3) / 4;

struct KQ { t: array<mat4x4<f32>, 8> }
struct CQ { t: array<mat4x4<f32>, 16> }

// Options, bits of u.flags (workgroup-uniform branches; kept out of the pipeline key so that
// few pipelines need compiling).
fn causal() -> bool { return (u.flags & 1u) != 0u; }
fn has_bias() -> bool { return (u.flags & 2u) != 0u; }
fn has_lens() -> bool { return (u.flags & 4u) != 0u; }
fn dropout_on() -> bool { return (u.flags & 8u) != 0u; }
fn blhd() -> bool { return (u.flags & 16u) != 0u; } // layout [B, L, H, D], else [B, H, L, D]
fn need_dk() -> bool { return (u.flags & 32u) != 0u; } // key side: write dk
fn need_dv() -> bool { return (u.flags & 128u) != 0u; } // key side: write dv
fn write_ds() -> bool { return (u.flags & 64u) != 0u; } // query side: also write ds
// Offset of row i (of a sequence of length len) of head h in batch b, for row width w.
fn row_off(b: u32, h: u32, i: u32, len: u32, w: u32) -> u32 {
  if (blhd()) { return ((b * len + i) * u.heads + h) * w; }
  return ((b * u.heads + h) * len + i) * w;
}

// Key lengths, log-sum-exp and Δ, packed by attention_bwd_delta.wgsl into `aux`.
fn aux_len(b: u32) -> i32 { return bitcast<i32>(aux[b]); }
fn aux_lse(r: u32) -> f32 { return bitcast<f32>(aux[u.bh / u.heads + r]); }
fn aux_delta(r: u32) -> f32 { return bitcast<f32>(aux[u.bh / u.heads + u.bh * u.lq + r]); }

// lowbias32 (Chris Wellons): a cheap integer hash with good avalanche, four at a time.
fn hash4(x: vec4<u32>) -> vec4<u32> {
  var h = x;
  h ^= h >> vec4<u32>(16u);
  h *= vec4<u32>(0x7feb352du);
  h ^= h >> vec4<u32>(15u);
  h *= vec4<u32>(0x846ca68bu);
  h ^= h >> vec4<u32>(16u);
  return h;
}

// 4×4 tile update: row i of acc += Σ_kk a[i][kk] · bm[kk].
fn mma(acc: mat4x4<f32>, a: mat4x4<f32>, bm: mat4x4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(mrow(acc[0], a[0], bm), mrow(acc[1], a[1], bm), mrow(acc[2], a[2], bm),
                     mrow(acc[3], a[3], bm));
}
fn mrow(c: vec4<f32>, a: vec4<f32>, bm: mat4x4<f32>) -> vec4<f32> {
  return fma(vec4(a.w), bm[3], fma(vec4(a.z), bm[2], fma(vec4(a.y), bm[1], fma(vec4(a.x), bm[0], c))));
}
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

// Rows r0..r0+3 of `go` (clamped to the last row) × elements 4c..4c+3 (0 past the row).
fn ld_go(b: u32, h: u32, r0: u32, c: u32) -> mat4x4<f32> {
  let n1 = u.lq - 1u;
  let o0 = row_off(b, h, min(r0, n1), u.lq, D_V);
  let o1 = row_off(b, h, min(r0 + 1u, n1), u.lq, D_V);
  let o2 = row_off(b, h, min(r0 + 2u, n1), u.lq, D_V);
  let o3 = row_off(b, h, min(r0 + 3u, n1), u.lq, D_V);
  if (VV) {
    return mat4x4<f32>(go[o0 / 4u + c], go[o1 / 4u + c], go[o2 / 4u + c], go[o3 / 4u + c]);
  }
  return mat4x4<f32>(row4_go(o0, c), row4_go(o1, c), row4_go(o2, c), row4_go(o3, c));
}
fn el_go(i: u32) -> f32 { return go[i / 4u][i % 4u]; }
fn row4_go(o: u32, c: u32) -> vec4<f32> {
  let d = 4u * c;
  let e = o + D_V - 1u;
  return vec4<f32>(el_go(min(o + d, e)), select(0.0, el_go(min(o + d + 1u, e)), d + 1u < D_V),
    select(0.0, el_go(min(o + d + 2u, e)), d + 2u < D_V),
    select(0.0, el_go(min(o + d + 3u, e)), d + 3u < D_V));
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

// ds = p (dp̃ − Δ) per row, dp̃ = dp with the dropout mask of keys tq..tq+3 and 1/(1 − rate).
fn dscore(p: mat4x4<f32>, dp: mat4x4<f32>, delta4: vec4<f32>, rseed: vec4<u32>, tq: u32) -> mat4x4<f32> {
  var d = dp;
  if (dropout_on()) {
    let t = vec4<u32>(tq, tq + 1u, tq + 2u, tq + 3u);
    let th = vec4<u32>(u.keep_thresh);
    let z = vec4<f32>(0.0);
    let sc = u.drop_scale;
    d = mat4x4<f32>(select(z, dp[0] * sc, hash4(vec4<u32>(rseed.x) ^ t) >= th),
                    select(z, dp[1] * sc, hash4(vec4<u32>(rseed.y) ^ t) >= th),
                    select(z, dp[2] * sc, hash4(vec4<u32>(rseed.z) ^ t) >= th),
                    select(z, dp[3] * sc, hash4(vec4<u32>(rseed.w) ^ t) >= th));
  }
  return mat4x4<f32>(p[0] * (d[0] - vec4<f32>(delta4.x)), p[1] * (d[1] - vec4<f32>(delta4.y)),
                     p[2] * (d[2] - vec4<f32>(delta4.z)), p[3] * (d[3] - vec4<f32>(delta4.w)));
}

struct Pair { a: mat4x4<f32>, b: mat4x4<f32> }

// (o, o1) + (ds, ds1)·K for the block's 32 keys and the column quad cv (K tiles loaded once).
fn dsk(o: mat4x4<f32>, o1: mat4x4<f32>, s: KQ, s1: KQ, b: u32, h: u32, t0: u32, cv: u32) -> Pair {
  var r = Pair(o, o1);
  { let kt = ld_k(b, h, t0 + 0u, cv); r.a = mma(r.a, s.t[0], kt); if (RM > 1) { r.b = mma(r.b, s1.t[0], kt); } }
  { let kt = ld_k(b, h, t0 + 4u, cv); r.a = mma(r.a, s.t[1], kt); if (RM > 1) { r.b = mma(r.b, s1.t[1], kt); } }
  { let kt = ld_k(b, h, t0 + 8u, cv); r.a = mma(r.a, s.t[2], kt); if (RM > 1) { r.b = mma(r.b, s1.t[2], kt); } }
  { let kt = ld_k(b, h, t0 + 12u, cv); r.a = mma(r.a, s.t[3], kt); if (RM > 1) { r.b = mma(r.b, s1.t[3], kt); } }
  { let kt = ld_k(b, h, t0 + 16u, cv); r.a = mma(r.a, s.t[4], kt); if (RM > 1) { r.b = mma(r.b, s1.t[4], kt); } }
  { let kt = ld_k(b, h, t0 + 20u, cv); r.a = mma(r.a, s.t[5], kt); if (RM > 1) { r.b = mma(r.b, s1.t[5], kt); } }
  { let kt = ld_k(b, h, t0 + 24u, cv); r.a = mma(r.a, s.t[6], kt); if (RM > 1) { r.b = mma(r.b, s1.t[6], kt); } }
  { let kt = ld_k(b, h, t0 + 28u, cv); r.a = mma(r.a, s.t[7], kt); if (RM > 1) { r.b = mma(r.b, s1.t[7], kt); } }
  return r;
}

fn store_ds(bh: u32, i0: u32, tq: u32, t: mat4x4<f32>) {
  let nmain = u.lk - u.npre;
  for (var r = 0u; r < 4u; r++) {
    if (i0 + r < u.lq) {
      for (var c = 0u; c < 4u; c++) {
        let tt = tq + c;
        if (tt >= u.npre && tt < u.lk) { ds_out[(bh * u.lq + i0 + r) * nmain + tt - u.npre] = t[r][c]; }
      }
    }
  }
}

fn store_dq(b: u32, h: u32, i0: u32, cv: u32, t: mat4x4<f32>) {
  for (var r = 0u; r < 4u; r++) {
    if (i0 + r < u.lq) {
      let o = row_off(b, h, i0 + r, u.lq, D_QK) + 4u * cv;
      let x = t[r] * u.scale;
      for (var c = 0u; c < 4u; c++) {
        if (4u * cv + c < D_QK) { dq[o + c] = x[c]; }
      }
    }
  }
}

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let gid = linear_id(wid, nwg, lid);
  if (gid >= u.bh * u.nq * u.groups) { return; }
  let rq = gid % u.nq;
  let g = (gid / u.nq) % u.groups;
  let bh = gid / (u.nq * u.groups);
  let b = bh / u.heads;
  let h = bh % u.heads;
  let i0 = 4u * RM * rq;
  let rows = min(vec4<u32>(i0, i0 + 1u, i0 + 2u, i0 + 3u), vec4<u32>(u.lq - 1u));
  let rows1 = min(rows + vec4<u32>(4u), vec4<u32>(u.lq - 1u)); // second row quad (RM = 2)

  var nmain = u.lk - u.npre;
  if (has_lens()) { nmain = u32(clamp(aux_len(b), 0, i32(nmain))); }
  var klim = vec4<u32>(u.npre + nmain);
  var klim1 = klim;
  if (causal()) {
    klim = min(klim, vec4<u32>(u.npre + 1u) + rows);
    klim1 = min(klim1, vec4<u32>(u.npre + 1u) + rows1);
  }
  var kend = max(max(klim.x, klim.y), max(klim.z, klim.w));
  if (RM > 1) { kend = max(kend, max(max(klim1.x, klim1.y), max(klim1.z, klim1.w))); }
  var bo = vec4<u32>(0u);
  var bo1 = vec4<u32>(0u);
  if (has_bias()) {
    let base = vec4<u32>(b * at8(u.bst, 0u) + h * at8(u.bst, 1u));
    bo = base + rows * vec4<u32>(at8(u.bst, 2u));
    bo1 = base + rows1 * vec4<u32>(at8(u.bst, 2u));
  }
  var rseed = vec4<u32>(0u);
  var rseed1 = vec4<u32>(0u);
  if (dropout_on()) {
    rseed = hash4(vec4<u32>(u.seed) ^ hash4(vec4<u32>(bh * u.lq) + rows));
    rseed1 = hash4(vec4<u32>(u.seed) ^ hash4(vec4<u32>(bh * u.lq) + rows1));
  }
  let ri = vec4<u32>(bh * u.lq) + rows;
  let lse4 = vec4<f32>(aux_lse(ri.x), aux_lse(ri.y), aux_lse(ri.z), aux_lse(ri.w));
  let delta4 = vec4<f32>(aux_delta(ri.x), aux_delta(ri.y), aux_delta(ri.z), aux_delta(ri.w));
  let ri1 = vec4<u32>(bh * u.lq) + rows1;
  let lse41 = vec4<f32>(aux_lse(ri1.x), aux_lse(ri1.y), aux_lse(ri1.z), aux_lse(ri1.w));
  let delta41 = vec4<f32>(aux_delta(ri1.x), aux_delta(ri1.y), aux_delta(ri1.z), aux_delta(ri1.w));

  var acc: CQ;
  var acc1: CQ;
  for (var t0 = 0u; t0 < kend; t0 += 32u) {
    var s = KQ(); // (explicit: naga hoists locals, so an implicit zero happens once)
    var dp = KQ();
    var s1 = KQ();
    var dp1 = KQ();
    for (var c = 0u; c < DQ4; c++) {
      let qt = ld_q(b, h, i0, c);
      var qt1 = qt;
      if (RM > 1) { qt1 = ld_q(b, h, i0 + 4u, c); }
      { let kt = transpose(ld_k(b, h, t0 + 0u, c)); s.t[0] = mma(s.t[0], qt, kt); if (RM > 1) { s1.t[0] = mma(s1.t[0], qt1, kt); } }
      { let kt = transpose(ld_k(b, h, t0 + 4u, c)); s.t[1] = mma(s.t[1], qt, kt); if (RM > 1) { s1.t[1] = mma(s1.t[1], qt1, kt); } }
      { let kt = transpose(ld_k(b, h, t0 + 8u, c)); s.t[2] = mma(s.t[2], qt, kt); if (RM > 1) { s1.t[2] = mma(s1.t[2], qt1, kt); } }
      { let kt = transpose(ld_k(b, h, t0 + 12u, c)); s.t[3] = mma(s.t[3], qt, kt); if (RM > 1) { s1.t[3] = mma(s1.t[3], qt1, kt); } }
      { let kt = transpose(ld_k(b, h, t0 + 16u, c)); s.t[4] = mma(s.t[4], qt, kt); if (RM > 1) { s1.t[4] = mma(s1.t[4], qt1, kt); } }
      { let kt = transpose(ld_k(b, h, t0 + 20u, c)); s.t[5] = mma(s.t[5], qt, kt); if (RM > 1) { s1.t[5] = mma(s1.t[5], qt1, kt); } }
      { let kt = transpose(ld_k(b, h, t0 + 24u, c)); s.t[6] = mma(s.t[6], qt, kt); if (RM > 1) { s1.t[6] = mma(s1.t[6], qt1, kt); } }
      { let kt = transpose(ld_k(b, h, t0 + 28u, c)); s.t[7] = mma(s.t[7], qt, kt); if (RM > 1) { s1.t[7] = mma(s1.t[7], qt1, kt); } }
    }
    for (var c = 0u; c < DV4; c++) {
      let gt = ld_go(b, h, i0, c);
      var gt1 = gt;
      if (RM > 1) { gt1 = ld_go(b, h, i0 + 4u, c); }
      { let vt = transpose(ld_v(b, h, t0 + 0u, c)); dp.t[0] = mma(dp.t[0], gt, vt); if (RM > 1) { dp1.t[0] = mma(dp1.t[0], gt1, vt); } }
      { let vt = transpose(ld_v(b, h, t0 + 4u, c)); dp.t[1] = mma(dp.t[1], gt, vt); if (RM > 1) { dp1.t[1] = mma(dp1.t[1], gt1, vt); } }
      { let vt = transpose(ld_v(b, h, t0 + 8u, c)); dp.t[2] = mma(dp.t[2], gt, vt); if (RM > 1) { dp1.t[2] = mma(dp1.t[2], gt1, vt); } }
      { let vt = transpose(ld_v(b, h, t0 + 12u, c)); dp.t[3] = mma(dp.t[3], gt, vt); if (RM > 1) { dp1.t[3] = mma(dp1.t[3], gt1, vt); } }
      { let vt = transpose(ld_v(b, h, t0 + 16u, c)); dp.t[4] = mma(dp.t[4], gt, vt); if (RM > 1) { dp1.t[4] = mma(dp1.t[4], gt1, vt); } }
      { let vt = transpose(ld_v(b, h, t0 + 20u, c)); dp.t[5] = mma(dp.t[5], gt, vt); if (RM > 1) { dp1.t[5] = mma(dp1.t[5], gt1, vt); } }
      { let vt = transpose(ld_v(b, h, t0 + 24u, c)); dp.t[6] = mma(dp.t[6], gt, vt); if (RM > 1) { dp1.t[6] = mma(dp1.t[6], gt1, vt); } }
      { let vt = transpose(ld_v(b, h, t0 + 28u, c)); dp.t[7] = mma(dp.t[7], gt, vt); if (RM > 1) { dp1.t[7] = mma(dp1.t[7], gt1, vt); } }
    }
    s.t[0] = dscore(probs(finish(s.t[0], t0 + 0u, klim, bo), lse4), dp.t[0], delta4, rseed, t0 + 0u);
    s.t[1] = dscore(probs(finish(s.t[1], t0 + 4u, klim, bo), lse4), dp.t[1], delta4, rseed, t0 + 4u);
    s.t[2] = dscore(probs(finish(s.t[2], t0 + 8u, klim, bo), lse4), dp.t[2], delta4, rseed, t0 + 8u);
    s.t[3] = dscore(probs(finish(s.t[3], t0 + 12u, klim, bo), lse4), dp.t[3], delta4, rseed, t0 + 12u);
    s.t[4] = dscore(probs(finish(s.t[4], t0 + 16u, klim, bo), lse4), dp.t[4], delta4, rseed, t0 + 16u);
    s.t[5] = dscore(probs(finish(s.t[5], t0 + 20u, klim, bo), lse4), dp.t[5], delta4, rseed, t0 + 20u);
    s.t[6] = dscore(probs(finish(s.t[6], t0 + 24u, klim, bo), lse4), dp.t[6], delta4, rseed, t0 + 24u);
    s.t[7] = dscore(probs(finish(s.t[7], t0 + 28u, klim, bo), lse4), dp.t[7], delta4, rseed, t0 + 28u);
    if (RM > 1) {
      s1.t[0] = dscore(probs(finish(s1.t[0], t0 + 0u, klim1, bo1), lse41), dp1.t[0], delta41, rseed1, t0 + 0u);
      s1.t[1] = dscore(probs(finish(s1.t[1], t0 + 4u, klim1, bo1), lse41), dp1.t[1], delta41, rseed1, t0 + 4u);
      s1.t[2] = dscore(probs(finish(s1.t[2], t0 + 8u, klim1, bo1), lse41), dp1.t[2], delta41, rseed1, t0 + 8u);
      s1.t[3] = dscore(probs(finish(s1.t[3], t0 + 12u, klim1, bo1), lse41), dp1.t[3], delta41, rseed1, t0 + 12u);
      s1.t[4] = dscore(probs(finish(s1.t[4], t0 + 16u, klim1, bo1), lse41), dp1.t[4], delta41, rseed1, t0 + 16u);
      s1.t[5] = dscore(probs(finish(s1.t[5], t0 + 20u, klim1, bo1), lse41), dp1.t[5], delta41, rseed1, t0 + 20u);
      s1.t[6] = dscore(probs(finish(s1.t[6], t0 + 24u, klim1, bo1), lse41), dp1.t[6], delta41, rseed1, t0 + 24u);
      s1.t[7] = dscore(probs(finish(s1.t[7], t0 + 28u, klim1, bo1), lse41), dp1.t[7], delta41, rseed1, t0 + 28u);
    }
    if (write_ds() && g == 0u) {
      store_ds(bh, i0, t0 + 0u, s.t[0]);
      store_ds(bh, i0, t0 + 4u, s.t[1]);
      store_ds(bh, i0, t0 + 8u, s.t[2]);
      store_ds(bh, i0, t0 + 12u, s.t[3]);
      store_ds(bh, i0, t0 + 16u, s.t[4]);
      store_ds(bh, i0, t0 + 20u, s.t[5]);
      store_ds(bh, i0, t0 + 24u, s.t[6]);
      store_ds(bh, i0, t0 + 28u, s.t[7]);
      if (RM > 1) {
        store_ds(bh, i0 + 4u, t0 + 0u, s1.t[0]);
        store_ds(bh, i0 + 4u, t0 + 4u, s1.t[1]);
        store_ds(bh, i0 + 4u, t0 + 8u, s1.t[2]);
        store_ds(bh, i0 + 4u, t0 + 12u, s1.t[3]);
        store_ds(bh, i0 + 4u, t0 + 16u, s1.t[4]);
        store_ds(bh, i0 + 4u, t0 + 20u, s1.t[5]);
        store_ds(bh, i0 + 4u, t0 + 24u, s1.t[6]);
        store_ds(bh, i0 + 4u, t0 + 28u, s1.t[7]);
      }
    }
    for (var v = 0u; v < RC; v++) {
      let cv = g * RC + v;
      if (cv < DQ4) {
        let r = dsk(acc.t[v], acc1.t[v], s, s1, b, h, t0, cv);
        acc.t[v] = r.a;
        if (RM > 1) { acc1.t[v] = r.b; }
      }
    }
  }
  for (var v = 0u; v < RC; v++) {
    if (g * RC + v < DQ4) {
      store_dq(b, h, i0, g * RC + v, acc.t[v]);
      if (RM > 1) { store_dq(b, h, i0 + 4u, g * RC + v, acc1.t[v]); }
    }
  }
}
