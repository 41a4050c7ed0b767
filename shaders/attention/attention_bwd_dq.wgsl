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
// Shared helpers (4×4 tiles, option bits, loads, scores): tile4.wgsl, attention_common.wgsl,
// attention_bwd_common.wgsl.

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
