// Fused scaled-dot-product attention, forward (see src/ops/attention.ts for the semantics).
//
// Register-blocked for adapters that run compute on a CPU (llvmpipe/lavapipe): there every
// invocation is one SIMD lane, every storage load is a per-lane loop and dynamically indexed
// private arrays live in memory, so each invocation keeps its whole working set in 4×4 tiles
// (mat4x4) addressed by constant indices only, and every loaded vec4 feeds 16 multiply-adds.
// No workgroup memory, no barriers.
//
// Invocation (batch·head, row quad, column group): 4 query rows and RV quads (4·RV columns) of
// the output. It streams over the keys in blocks of 32 with an online softmax (running max m
// and sum l per row): S = scale·Q·Kᵀ + bias for the block (8 tiles, summed over the head dim in
// chunks of 4), masked, P = exp(S − m), O = O·exp(m_old − m) + P·V. The Lq×Lk score matrix
// never exists. With more than 16·4 value columns the scores are recomputed per column group.
// The output rows and the per-row log-sum-exp (natural log; -Inf for a fully masked row) are
// written for the backward.
//
// Defines: D_QK, D_V (head dims), RV (1..16), VQ / VV (q,k / v rows are vec4-aligned: read
// whole vec4s; q, k, v are bound as vec4 arrays either way). Options are bits of u.flags.
// Shared helpers (4×4 tiles, option bits, loads, scores): tile4.wgsl, attention_common.wgsl.

// Output tiles of one row quad: up to 16 column quads.
struct OQ { t: array<mat4x4<f32>, 16> }

// Dropout of keys tq..tq+3: keep where hash(rseed_row ^ t) ≥ keep_thresh, scaled 1/(1 − rate).
fn drop(p: mat4x4<f32>, rseed: vec4<u32>, tq: u32) -> mat4x4<f32> {
  let t = vec4<u32>(tq, tq + 1u, tq + 2u, tq + 3u);
  let th = vec4<u32>(u.keep_thresh);
  let z = vec4<f32>(0.0);
  let sc = u.drop_scale;
  return mat4x4<f32>(select(z, p[0] * sc, hash4(vec4<u32>(rseed.x) ^ t) >= th),
                     select(z, p[1] * sc, hash4(vec4<u32>(rseed.y) ^ t) >= th),
                     select(z, p[2] * sc, hash4(vec4<u32>(rseed.z) ^ t) >= th),
                     select(z, p[3] * sc, hash4(vec4<u32>(rseed.w) ^ t) >= th));
}

// (o, o1) + (P, P1)·V for the block's 32 keys and the value column quad cv (each V tile
// loaded once for both row quads).
fn pv(o: mat4x4<f32>, o1: mat4x4<f32>, s: KQ, s1: KQ, b: u32, h: u32, t0: u32, cv: u32) -> Pair {
  var r = Pair(o, o1);
  { let vt = ld_v(b, h, t0 + 0u, cv); r.a = mma(r.a, s.t[0], vt); if (RM > 1) { r.b = mma(r.b, s1.t[0], vt); } }
  { let vt = ld_v(b, h, t0 + 4u, cv); r.a = mma(r.a, s.t[1], vt); if (RM > 1) { r.b = mma(r.b, s1.t[1], vt); } }
  { let vt = ld_v(b, h, t0 + 8u, cv); r.a = mma(r.a, s.t[2], vt); if (RM > 1) { r.b = mma(r.b, s1.t[2], vt); } }
  { let vt = ld_v(b, h, t0 + 12u, cv); r.a = mma(r.a, s.t[3], vt); if (RM > 1) { r.b = mma(r.b, s1.t[3], vt); } }
  { let vt = ld_v(b, h, t0 + 16u, cv); r.a = mma(r.a, s.t[4], vt); if (RM > 1) { r.b = mma(r.b, s1.t[4], vt); } }
  { let vt = ld_v(b, h, t0 + 20u, cv); r.a = mma(r.a, s.t[5], vt); if (RM > 1) { r.b = mma(r.b, s1.t[5], vt); } }
  { let vt = ld_v(b, h, t0 + 24u, cv); r.a = mma(r.a, s.t[6], vt); if (RM > 1) { r.b = mma(r.b, s1.t[6], vt); } }
  { let vt = ld_v(b, h, t0 + 28u, cv); r.a = mma(r.a, s.t[7], vt); if (RM > 1) { r.b = mma(r.b, s1.t[7], vt); } }
  return r;
}

// Writes rows i0..i0+3 (those < lq) of column quad cv (columns < D_V), times inv per row.
fn store_out(b: u32, h: u32, i0: u32, cv: u32, t: mat4x4<f32>, inv: vec4<f32>) {
  for (var r = 0u; r < 4u; r++) {
    if (i0 + r < u.lq) {
      let o = row_off(b, h, i0 + r, u.lq, D_V) + 4u * cv;
      let x = t[r] * inv[r];
      for (var c = 0u; c < 4u; c++) {
        if (4u * cv + c < D_V) { out[o + c] = x[c]; }
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

  // Keys [0, npre) are prefix tokens (always visible); key t ≥ npre is main key t − npre,
  // visible when t − npre < length[b] and, if causal, t − npre ≤ i: keys [0, klim_i).
  var nmain = u.lk - u.npre;
  if (has_lens()) { nmain = u32(clamp(lens[b], 0, i32(nmain))); }
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

  var m = vec4<f32>(NEG);
  var l = vec4<f32>(0.0);
  var o: OQ;
  var m1 = vec4<f32>(NEG);
  var l1 = vec4<f32>(0.0);
  var o1: OQ;
  for (var t0 = 0u; t0 < kend; t0 += 32u) {
    var s = KQ(); // (explicit: naga hoists locals, so an implicit zero happens once)
    var s1 = KQ();
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
    s.t[0] = finish(s.t[0], t0 + 0u, klim, bo);
    s.t[1] = finish(s.t[1], t0 + 4u, klim, bo);
    s.t[2] = finish(s.t[2], t0 + 8u, klim, bo);
    s.t[3] = finish(s.t[3], t0 + 12u, klim, bo);
    s.t[4] = finish(s.t[4], t0 + 16u, klim, bo);
    s.t[5] = finish(s.t[5], t0 + 20u, klim, bo);
    s.t[6] = finish(s.t[6], t0 + 24u, klim, bo);
    s.t[7] = finish(s.t[7], t0 + 28u, klim, bo);
    let mb = max(m, max(max(max(rowmax(s.t[0]), rowmax(s.t[1])), max(rowmax(s.t[2]), rowmax(s.t[3]))),
      max(max(rowmax(s.t[4]), rowmax(s.t[5])), max(rowmax(s.t[6]), rowmax(s.t[7])))));
    let corr = exp(m - mb);
    m = mb;
    s.t[0] = probs(s.t[0], mb);
    s.t[1] = probs(s.t[1], mb);
    s.t[2] = probs(s.t[2], mb);
    s.t[3] = probs(s.t[3], mb);
    s.t[4] = probs(s.t[4], mb);
    s.t[5] = probs(s.t[5], mb);
    s.t[6] = probs(s.t[6], mb);
    s.t[7] = probs(s.t[7], mb);
    l = l * corr + ((rowsum(s.t[0]) + rowsum(s.t[1])) + (rowsum(s.t[2]) + rowsum(s.t[3]))) +
      ((rowsum(s.t[4]) + rowsum(s.t[5])) + (rowsum(s.t[6]) + rowsum(s.t[7])));
    if (dropout_on()) {
      s.t[0] = drop(s.t[0], rseed, t0 + 0u);
      s.t[1] = drop(s.t[1], rseed, t0 + 4u);
      s.t[2] = drop(s.t[2], rseed, t0 + 8u);
      s.t[3] = drop(s.t[3], rseed, t0 + 12u);
      s.t[4] = drop(s.t[4], rseed, t0 + 16u);
      s.t[5] = drop(s.t[5], rseed, t0 + 20u);
      s.t[6] = drop(s.t[6], rseed, t0 + 24u);
      s.t[7] = drop(s.t[7], rseed, t0 + 28u);
    }
    var corr1 = vec4<f32>(1.0);
    if (RM > 1) {
      s1.t[0] = finish(s1.t[0], t0 + 0u, klim1, bo1);
      s1.t[1] = finish(s1.t[1], t0 + 4u, klim1, bo1);
      s1.t[2] = finish(s1.t[2], t0 + 8u, klim1, bo1);
      s1.t[3] = finish(s1.t[3], t0 + 12u, klim1, bo1);
      s1.t[4] = finish(s1.t[4], t0 + 16u, klim1, bo1);
      s1.t[5] = finish(s1.t[5], t0 + 20u, klim1, bo1);
      s1.t[6] = finish(s1.t[6], t0 + 24u, klim1, bo1);
      s1.t[7] = finish(s1.t[7], t0 + 28u, klim1, bo1);
      let mb1 = max(m1, max(max(max(rowmax(s1.t[0]), rowmax(s1.t[1])), max(rowmax(s1.t[2]), rowmax(s1.t[3]))),
      max(max(rowmax(s1.t[4]), rowmax(s1.t[5])), max(rowmax(s1.t[6]), rowmax(s1.t[7])))));
      corr1 = exp(m1 - mb1);
      m1 = mb1;
      s1.t[0] = probs(s1.t[0], mb1);
      s1.t[1] = probs(s1.t[1], mb1);
      s1.t[2] = probs(s1.t[2], mb1);
      s1.t[3] = probs(s1.t[3], mb1);
      s1.t[4] = probs(s1.t[4], mb1);
      s1.t[5] = probs(s1.t[5], mb1);
      s1.t[6] = probs(s1.t[6], mb1);
      s1.t[7] = probs(s1.t[7], mb1);
      l1 = l1 * corr1 + ((rowsum(s1.t[0]) + rowsum(s1.t[1])) + (rowsum(s1.t[2]) + rowsum(s1.t[3]))) +
      ((rowsum(s1.t[4]) + rowsum(s1.t[5])) + (rowsum(s1.t[6]) + rowsum(s1.t[7])));
      if (dropout_on()) {
        s1.t[0] = drop(s1.t[0], rseed1, t0 + 0u);
        s1.t[1] = drop(s1.t[1], rseed1, t0 + 4u);
        s1.t[2] = drop(s1.t[2], rseed1, t0 + 8u);
        s1.t[3] = drop(s1.t[3], rseed1, t0 + 12u);
        s1.t[4] = drop(s1.t[4], rseed1, t0 + 16u);
        s1.t[5] = drop(s1.t[5], rseed1, t0 + 20u);
        s1.t[6] = drop(s1.t[6], rseed1, t0 + 24u);
        s1.t[7] = drop(s1.t[7], rseed1, t0 + 28u);
      }
    }
    // A dynamic loop over the column quads: one copy of the 8 tile products (compile time),
    // at the price of the accumulator tile's trip through memory.
    for (var v = 0u; v < RV; v++) {
      let cv = g * RV + v;
      if (cv < DV4) {
        let r = pv(scale_rows(o.t[v], corr), scale_rows(o1.t[v], corr1), s, s1, b, h, t0, cv);
        o.t[v] = r.a;
        if (RM > 1) { o1.t[v] = r.b; }
      }
    }
  }

  // A fully masked row (no visible key) has l = 0: its output is 0 and its LSE is -Inf.
  let pos = l > vec4<f32>(0.0);
  let inv = select(vec4<f32>(0.0), 1.0 / l, pos);
  let inv1 = select(vec4<f32>(0.0), 1.0 / l1, l1 > vec4<f32>(0.0));
  for (var v = 0u; v < RV; v++) {
    if (g * RV + v < DV4) {
      store_out(b, h, i0, g * RV + v, o.t[v], inv);
      if (RM > 1) { store_out(b, h, i0 + 4u, g * RV + v, o1.t[v], inv1); }
    }
  }
  if (g == 0u) {
    let ninf = vec4<f32>(bitcast<f32>(0xff800000u));
    let lse_v = select(ninf, m + log(l), pos);
    let lse_v1 = select(ninf, m1 + log(l1), l1 > vec4<f32>(0.0));
    for (var r = 0u; r < 4u; r++) {
      if (i0 + r < u.lq) { lse[bh * u.lq + i0 + r] = lse_v[r]; }
      if (RM > 1 && i0 + 4u + r < u.lq) { lse[bh * u.lq + i0 + 4u + r] = lse_v1[r]; }
    }
  }
}
