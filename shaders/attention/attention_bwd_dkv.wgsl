// Fused attention backward, key side: with keys as rows and queries as columns,
//   dv_t = Σ_i p̃_it dO_i     (p̃ = p times the dropout mask and 1/(1−rate)),
//   dk_t = scale · Σ_i p_it (dp̃_it − Δ_i) q_i,  dp̃_it = dO_i · v_t (masked and scaled as p̃),
// p_it = exp(s_it − lse_i) recomputed from the saved log-sum-exp, Δ from attention_bwd_delta.
// Register-blocked like attention_fwd.wgsl (read its header): invocation (batch·head, RM key
// quads, column group g) holds 4·RM keys × RC column quads of dk and of dv (quads g·RC.. of
// each, where they exist) and streams over the query rows that can see the keys in blocks of
// 32; the score tiles serve both. Invisible keys (padding) get zero gradients.
//
// Defines: D_QK, D_V, RC (1..16), RM (1..2), VQ, VV; options (incl. need_dk, need_dv) are bits
// of u.flags.
// Shared helpers (4×4 tiles, option bits, loads, scores): tile4.wgsl, attention_common.wgsl,
// attention_bwd_common.wgsl.

// lse and Δ of queries i..i+3 (clamped to the last row).
fn qrows(bh: u32, i: u32) -> vec4<u32> {
  return vec4<u32>(bh * u.lq) + min(vec4<u32>(i, i + 1u, i + 2u, i + 3u), vec4<u32>(u.lq - 1u));
}
fn lse4(bh: u32, i: u32) -> vec4<f32> {
  let r = qrows(bh, i);
  return vec4<f32>(aux_lse(r.x), aux_lse(r.y), aux_lse(r.z), aux_lse(r.w));
}
fn delta4(bh: u32, i: u32) -> vec4<f32> {
  let r = qrows(bh, i);
  return vec4<f32>(aux_delta(r.x), aux_delta(r.y), aux_delta(r.z), aux_delta(r.w));
}

// Bias of queries iq..iq+3 for a key with bias offset base (a main key; 0 for prefix keys).
fn bias_col(base: u32, t: u32, iq: u32) -> vec4<f32> {
  if (t < u.npre) { return vec4<f32>(0.0); }
  let si = at8(u.bst, 2u);
  let i = min(vec4<u32>(iq, iq + 1u, iq + 2u, iq + 3u), vec4<u32>(u.lq - 1u));
  return vec4<f32>(bias[base + i.x * si], bias[base + i.y * si], bias[base + i.z * si],
    bias[base + i.w * si]);
}

// Scaled scores of keys tk (rows) against queries iq..iq+3 plus bias; NEG where invisible.
fn finish_t(x: mat4x4<f32>, iq: u32, tk: vec4<u32>, vis: vec4<bool>, bo: vec4<u32>) -> mat4x4<f32> {
  let i = vec4<u32>(iq, iq + 1u, iq + 2u, iq + 3u);
  var r = x * u.scale;
  if (has_bias()) {
    r = r + mat4x4<f32>(bias_col(bo.x, tk.x, iq), bias_col(bo.y, tk.y, iq), bias_col(bo.z, tk.z, iq),
                        bias_col(bo.w, tk.w, iq));
  }
  let n = vec4<f32>(NEG);
  return mat4x4<f32>(select(n, r[0], ok(tk.x, vis.x, i)), select(n, r[1], ok(tk.y, vis.y, i)),
                     select(n, r[2], ok(tk.z, vis.z, i)), select(n, r[3], ok(tk.w, vis.w, i)));
}

// Whether key t (visible: not padding) is seen by queries i.
fn ok(t: u32, visible: bool, i: vec4<u32>) -> vec4<bool> {
  var r = vec4<bool>(visible) & (i < vec4<u32>(u.lq));
  if (causal() && t >= u.npre) { r = r & (vec4<u32>(t - u.npre) <= i); }
  return r;
}

// exp(x − lse) with one lse per column (query), 0 for masked scores.
fn probs_t(x: mat4x4<f32>, l: vec4<f32>) -> mat4x4<f32> {
  let z = vec4<f32>(0.0);
  let lo = vec4<f32>(-1.0e38);
  return mat4x4<f32>(select(z, exp(x[0] - l), x[0] > lo), select(z, exp(x[1] - l), x[1] > lo),
                     select(z, exp(x[2] - l), x[2] > lo), select(z, exp(x[3] - l), x[3] > lo));
}

// x times the dropout mask of (query iq..iq+3, key tk) and 1/(1 − rate) (identity without dropout).
fn keep_t(x: mat4x4<f32>, bh: u32, iq: u32, tk: vec4<u32>) -> mat4x4<f32> {
  if (!dropout_on()) { return x; }
  let i = vec4<u32>(bh * u.lq) + min(vec4<u32>(iq, iq + 1u, iq + 2u, iq + 3u), vec4<u32>(u.lq - 1u));
  let rs = hash4(vec4<u32>(u.seed) ^ hash4(i));
  let th = vec4<u32>(u.keep_thresh);
  let z = vec4<f32>(0.0);
  let sc = u.drop_scale;
  return mat4x4<f32>(select(z, x[0] * sc, hash4(rs ^ vec4<u32>(tk.x)) >= th),
                     select(z, x[1] * sc, hash4(rs ^ vec4<u32>(tk.y)) >= th),
                     select(z, x[2] * sc, hash4(rs ^ vec4<u32>(tk.z)) >= th),
                     select(z, x[3] * sc, hash4(rs ^ vec4<u32>(tk.w)) >= th));
}

// ds = p (dp̃ − Δ), Δ one per column (query).
fn ds_t(p: mat4x4<f32>, dp: mat4x4<f32>, d: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(p[0] * (dp[0] - d), p[1] * (dp[1] - d), p[2] * (dp[2] - d), p[3] * (dp[3] - d));
}

// (o, o1) + (p̃, p̃1)·dO over the block's 32 queries for column quad cv of dv.
fn pdo(o: mat4x4<f32>, o1: mat4x4<f32>, p: KQ, p1: KQ, b: u32, h: u32, i0: u32, cv: u32) -> Pair {
  var r = Pair(o, o1);
  { let gt = ld_go(b, h, i0 + 0u, cv); r.a = mma(r.a, p.t[0], gt); if (RM > 1) { r.b = mma(r.b, p1.t[0], gt); } }
  { let gt = ld_go(b, h, i0 + 4u, cv); r.a = mma(r.a, p.t[1], gt); if (RM > 1) { r.b = mma(r.b, p1.t[1], gt); } }
  { let gt = ld_go(b, h, i0 + 8u, cv); r.a = mma(r.a, p.t[2], gt); if (RM > 1) { r.b = mma(r.b, p1.t[2], gt); } }
  { let gt = ld_go(b, h, i0 + 12u, cv); r.a = mma(r.a, p.t[3], gt); if (RM > 1) { r.b = mma(r.b, p1.t[3], gt); } }
  { let gt = ld_go(b, h, i0 + 16u, cv); r.a = mma(r.a, p.t[4], gt); if (RM > 1) { r.b = mma(r.b, p1.t[4], gt); } }
  { let gt = ld_go(b, h, i0 + 20u, cv); r.a = mma(r.a, p.t[5], gt); if (RM > 1) { r.b = mma(r.b, p1.t[5], gt); } }
  { let gt = ld_go(b, h, i0 + 24u, cv); r.a = mma(r.a, p.t[6], gt); if (RM > 1) { r.b = mma(r.b, p1.t[6], gt); } }
  { let gt = ld_go(b, h, i0 + 28u, cv); r.a = mma(r.a, p.t[7], gt); if (RM > 1) { r.b = mma(r.b, p1.t[7], gt); } }
  return r;
}

// (o, o1) + (ds, ds1)·Q over the block's 32 queries for column quad cv of dk.
fn dsq(o: mat4x4<f32>, o1: mat4x4<f32>, s: KQ, s1: KQ, b: u32, h: u32, i0: u32, cv: u32) -> Pair {
  var r = Pair(o, o1);
  { let qt = ld_q(b, h, i0 + 0u, cv); r.a = mma(r.a, s.t[0], qt); if (RM > 1) { r.b = mma(r.b, s1.t[0], qt); } }
  { let qt = ld_q(b, h, i0 + 4u, cv); r.a = mma(r.a, s.t[1], qt); if (RM > 1) { r.b = mma(r.b, s1.t[1], qt); } }
  { let qt = ld_q(b, h, i0 + 8u, cv); r.a = mma(r.a, s.t[2], qt); if (RM > 1) { r.b = mma(r.b, s1.t[2], qt); } }
  { let qt = ld_q(b, h, i0 + 12u, cv); r.a = mma(r.a, s.t[3], qt); if (RM > 1) { r.b = mma(r.b, s1.t[3], qt); } }
  { let qt = ld_q(b, h, i0 + 16u, cv); r.a = mma(r.a, s.t[4], qt); if (RM > 1) { r.b = mma(r.b, s1.t[4], qt); } }
  { let qt = ld_q(b, h, i0 + 20u, cv); r.a = mma(r.a, s.t[5], qt); if (RM > 1) { r.b = mma(r.b, s1.t[5], qt); } }
  { let qt = ld_q(b, h, i0 + 24u, cv); r.a = mma(r.a, s.t[6], qt); if (RM > 1) { r.b = mma(r.b, s1.t[6], qt); } }
  { let qt = ld_q(b, h, i0 + 28u, cv); r.a = mma(r.a, s.t[7], qt); if (RM > 1) { r.b = mma(r.b, s1.t[7], qt); } }
  return r;
}

fn store_k(b: u32, h: u32, t0: u32, cv: u32, t: mat4x4<f32>) {
  for (var r = 0u; r < 4u; r++) {
    if (t0 + r < u.lk) {
      let o = row_off(b, h, t0 + r, u.lk, D_QK) + 4u * cv;
      let x = t[r] * u.scale;
      for (var c = 0u; c < 4u; c++) {
        if (4u * cv + c < D_QK) { dk[o + c] = x[c]; }
      }
    }
  }
}

fn store_v(b: u32, h: u32, t0: u32, cv: u32, t: mat4x4<f32>) {
  for (var r = 0u; r < 4u; r++) {
    if (t0 + r < u.lk) {
      let o = row_off(b, h, t0 + r, u.lk, D_V) + 4u * cv;
      let x = t[r];
      for (var c = 0u; c < 4u; c++) {
        if (4u * cv + c < D_V) { dv[o + c] = x[c]; }
      }
    }
  }
}

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let gid = linear_id(wid, nwg, lid);
  if (gid >= u.bh * u.nq * u.groups) { return; }
  let kq = gid % u.nq;
  let g = (gid / u.nq) % u.groups;
  let bh = gid / (u.nq * u.groups);
  let b = bh / u.heads;
  let h = bh % u.heads;
  let t0 = 4u * RM * kq;
  let tk = min(vec4<u32>(t0, t0 + 1u, t0 + 2u, t0 + 3u), vec4<u32>(u.lk - 1u));
  let tk1 = min(tk + vec4<u32>(4u), vec4<u32>(u.lk - 1u)); // second key quad (RM = 2)

  var nmain = u.lk - u.npre;
  if (has_lens()) { nmain = u32(clamp(aux_len(b), 0, i32(nmain))); }
  let vis = vec4<u32>(t0, t0 + 1u, t0 + 2u, t0 + 3u) < vec4<u32>(u.npre + nmain);
  let vis1 = (vec4<u32>(t0 + 4u, t0 + 5u, t0 + 6u, t0 + 7u) < vec4<u32>(u.npre + nmain)) &
    vec4<bool>(RM > 1);
  // Queries [istart, lq) can see some key of the quads (causal: main key j is seen by i ≥ j).
  var istart = 0u;
  if (causal() && t0 > u.npre) { istart = t0 - u.npre; }
  if (!any(vis) && !any(vis1)) { istart = u.lq; } // all padding: zero gradients
  var bo = vec4<u32>(0u);
  var bo1 = vec4<u32>(0u);
  if (has_bias()) {
    let base = vec4<u32>(b * at8(u.bst, 0u) + h * at8(u.bst, 1u));
    let nm1 = vec4<u32>(u.lk - u.npre - 1u);
    let sj = vec4<u32>(at8(u.bst, 3u));
    bo = base + min(tk - vec4<u32>(u.npre), nm1) * sj; // prefix keys: unused
    bo1 = base + min(tk1 - vec4<u32>(u.npre), nm1) * sj;
  }

  var acck: CQ;
  var accv: CQ;
  var acck1: CQ;
  var accv1: CQ;
  for (var i0 = istart; i0 < u.lq; i0 += 32u) {
    var s = KQ(); // (explicit: naga hoists locals, so an implicit zero happens once)
    var s1 = KQ();
    for (var c = 0u; c < DQ4; c++) {
      let kt = ld_k(b, h, t0, c);
      var kt1 = kt;
      if (RM > 1) { kt1 = ld_k(b, h, t0 + 4u, c); }
      { let qt = transpose(ld_q(b, h, i0 + 0u, c)); s.t[0] = mma(s.t[0], kt, qt); if (RM > 1) { s1.t[0] = mma(s1.t[0], kt1, qt); } }
      { let qt = transpose(ld_q(b, h, i0 + 4u, c)); s.t[1] = mma(s.t[1], kt, qt); if (RM > 1) { s1.t[1] = mma(s1.t[1], kt1, qt); } }
      { let qt = transpose(ld_q(b, h, i0 + 8u, c)); s.t[2] = mma(s.t[2], kt, qt); if (RM > 1) { s1.t[2] = mma(s1.t[2], kt1, qt); } }
      { let qt = transpose(ld_q(b, h, i0 + 12u, c)); s.t[3] = mma(s.t[3], kt, qt); if (RM > 1) { s1.t[3] = mma(s1.t[3], kt1, qt); } }
      { let qt = transpose(ld_q(b, h, i0 + 16u, c)); s.t[4] = mma(s.t[4], kt, qt); if (RM > 1) { s1.t[4] = mma(s1.t[4], kt1, qt); } }
      { let qt = transpose(ld_q(b, h, i0 + 20u, c)); s.t[5] = mma(s.t[5], kt, qt); if (RM > 1) { s1.t[5] = mma(s1.t[5], kt1, qt); } }
      { let qt = transpose(ld_q(b, h, i0 + 24u, c)); s.t[6] = mma(s.t[6], kt, qt); if (RM > 1) { s1.t[6] = mma(s1.t[6], kt1, qt); } }
      { let qt = transpose(ld_q(b, h, i0 + 28u, c)); s.t[7] = mma(s.t[7], kt, qt); if (RM > 1) { s1.t[7] = mma(s1.t[7], kt1, qt); } }
    }
    s.t[0] = probs_t(finish_t(s.t[0], i0 + 0u, tk, vis, bo), lse4(bh, i0 + 0u));
    s.t[1] = probs_t(finish_t(s.t[1], i0 + 4u, tk, vis, bo), lse4(bh, i0 + 4u));
    s.t[2] = probs_t(finish_t(s.t[2], i0 + 8u, tk, vis, bo), lse4(bh, i0 + 8u));
    s.t[3] = probs_t(finish_t(s.t[3], i0 + 12u, tk, vis, bo), lse4(bh, i0 + 12u));
    s.t[4] = probs_t(finish_t(s.t[4], i0 + 16u, tk, vis, bo), lse4(bh, i0 + 16u));
    s.t[5] = probs_t(finish_t(s.t[5], i0 + 20u, tk, vis, bo), lse4(bh, i0 + 20u));
    s.t[6] = probs_t(finish_t(s.t[6], i0 + 24u, tk, vis, bo), lse4(bh, i0 + 24u));
    s.t[7] = probs_t(finish_t(s.t[7], i0 + 28u, tk, vis, bo), lse4(bh, i0 + 28u));
    var pd = KQ();
    pd.t[0] = keep_t(s.t[0], bh, i0 + 0u, tk);
    pd.t[1] = keep_t(s.t[1], bh, i0 + 4u, tk);
    pd.t[2] = keep_t(s.t[2], bh, i0 + 8u, tk);
    pd.t[3] = keep_t(s.t[3], bh, i0 + 12u, tk);
    pd.t[4] = keep_t(s.t[4], bh, i0 + 16u, tk);
    pd.t[5] = keep_t(s.t[5], bh, i0 + 20u, tk);
    pd.t[6] = keep_t(s.t[6], bh, i0 + 24u, tk);
    pd.t[7] = keep_t(s.t[7], bh, i0 + 28u, tk);
    var pd1 = KQ();
    if (RM > 1) {
      s1.t[0] = probs_t(finish_t(s1.t[0], i0 + 0u, tk1, vis1, bo1), lse4(bh, i0 + 0u));
      s1.t[1] = probs_t(finish_t(s1.t[1], i0 + 4u, tk1, vis1, bo1), lse4(bh, i0 + 4u));
      s1.t[2] = probs_t(finish_t(s1.t[2], i0 + 8u, tk1, vis1, bo1), lse4(bh, i0 + 8u));
      s1.t[3] = probs_t(finish_t(s1.t[3], i0 + 12u, tk1, vis1, bo1), lse4(bh, i0 + 12u));
      s1.t[4] = probs_t(finish_t(s1.t[4], i0 + 16u, tk1, vis1, bo1), lse4(bh, i0 + 16u));
      s1.t[5] = probs_t(finish_t(s1.t[5], i0 + 20u, tk1, vis1, bo1), lse4(bh, i0 + 20u));
      s1.t[6] = probs_t(finish_t(s1.t[6], i0 + 24u, tk1, vis1, bo1), lse4(bh, i0 + 24u));
      s1.t[7] = probs_t(finish_t(s1.t[7], i0 + 28u, tk1, vis1, bo1), lse4(bh, i0 + 28u));
      pd1.t[0] = keep_t(s1.t[0], bh, i0 + 0u, tk1);
      pd1.t[1] = keep_t(s1.t[1], bh, i0 + 4u, tk1);
      pd1.t[2] = keep_t(s1.t[2], bh, i0 + 8u, tk1);
      pd1.t[3] = keep_t(s1.t[3], bh, i0 + 12u, tk1);
      pd1.t[4] = keep_t(s1.t[4], bh, i0 + 16u, tk1);
      pd1.t[5] = keep_t(s1.t[5], bh, i0 + 20u, tk1);
      pd1.t[6] = keep_t(s1.t[6], bh, i0 + 24u, tk1);
      pd1.t[7] = keep_t(s1.t[7], bh, i0 + 28u, tk1);
    }
    if (need_dv()) {
      for (var v = 0u; v < RC; v++) {
        let cv = g * RC + v;
        if (cv < DV4) {
          let r = pdo(accv.t[v], accv1.t[v], pd, pd1, b, h, i0, cv);
          accv.t[v] = r.a;
          if (RM > 1) { accv1.t[v] = r.b; }
        }
      }
    }
    if (need_dk()) {
      var dp = KQ();
      var dp1 = KQ();
      for (var c = 0u; c < DV4; c++) {
        let vt = ld_v(b, h, t0, c);
        var vt1 = vt;
        if (RM > 1) { vt1 = ld_v(b, h, t0 + 4u, c); }
        { let gt = transpose(ld_go(b, h, i0 + 0u, c)); dp.t[0] = mma(dp.t[0], vt, gt); if (RM > 1) { dp1.t[0] = mma(dp1.t[0], vt1, gt); } }
        { let gt = transpose(ld_go(b, h, i0 + 4u, c)); dp.t[1] = mma(dp.t[1], vt, gt); if (RM > 1) { dp1.t[1] = mma(dp1.t[1], vt1, gt); } }
        { let gt = transpose(ld_go(b, h, i0 + 8u, c)); dp.t[2] = mma(dp.t[2], vt, gt); if (RM > 1) { dp1.t[2] = mma(dp1.t[2], vt1, gt); } }
        { let gt = transpose(ld_go(b, h, i0 + 12u, c)); dp.t[3] = mma(dp.t[3], vt, gt); if (RM > 1) { dp1.t[3] = mma(dp1.t[3], vt1, gt); } }
        { let gt = transpose(ld_go(b, h, i0 + 16u, c)); dp.t[4] = mma(dp.t[4], vt, gt); if (RM > 1) { dp1.t[4] = mma(dp1.t[4], vt1, gt); } }
        { let gt = transpose(ld_go(b, h, i0 + 20u, c)); dp.t[5] = mma(dp.t[5], vt, gt); if (RM > 1) { dp1.t[5] = mma(dp1.t[5], vt1, gt); } }
        { let gt = transpose(ld_go(b, h, i0 + 24u, c)); dp.t[6] = mma(dp.t[6], vt, gt); if (RM > 1) { dp1.t[6] = mma(dp1.t[6], vt1, gt); } }
        { let gt = transpose(ld_go(b, h, i0 + 28u, c)); dp.t[7] = mma(dp.t[7], vt, gt); if (RM > 1) { dp1.t[7] = mma(dp1.t[7], vt1, gt); } }
      }
      s.t[0] = ds_t(s.t[0], keep_t(dp.t[0], bh, i0 + 0u, tk), delta4(bh, i0 + 0u));
      s.t[1] = ds_t(s.t[1], keep_t(dp.t[1], bh, i0 + 4u, tk), delta4(bh, i0 + 4u));
      s.t[2] = ds_t(s.t[2], keep_t(dp.t[2], bh, i0 + 8u, tk), delta4(bh, i0 + 8u));
      s.t[3] = ds_t(s.t[3], keep_t(dp.t[3], bh, i0 + 12u, tk), delta4(bh, i0 + 12u));
      s.t[4] = ds_t(s.t[4], keep_t(dp.t[4], bh, i0 + 16u, tk), delta4(bh, i0 + 16u));
      s.t[5] = ds_t(s.t[5], keep_t(dp.t[5], bh, i0 + 20u, tk), delta4(bh, i0 + 20u));
      s.t[6] = ds_t(s.t[6], keep_t(dp.t[6], bh, i0 + 24u, tk), delta4(bh, i0 + 24u));
      s.t[7] = ds_t(s.t[7], keep_t(dp.t[7], bh, i0 + 28u, tk), delta4(bh, i0 + 28u));
      if (RM > 1) {
        s1.t[0] = ds_t(s1.t[0], keep_t(dp1.t[0], bh, i0 + 0u, tk1), delta4(bh, i0 + 0u));
        s1.t[1] = ds_t(s1.t[1], keep_t(dp1.t[1], bh, i0 + 4u, tk1), delta4(bh, i0 + 4u));
        s1.t[2] = ds_t(s1.t[2], keep_t(dp1.t[2], bh, i0 + 8u, tk1), delta4(bh, i0 + 8u));
        s1.t[3] = ds_t(s1.t[3], keep_t(dp1.t[3], bh, i0 + 12u, tk1), delta4(bh, i0 + 12u));
        s1.t[4] = ds_t(s1.t[4], keep_t(dp1.t[4], bh, i0 + 16u, tk1), delta4(bh, i0 + 16u));
        s1.t[5] = ds_t(s1.t[5], keep_t(dp1.t[5], bh, i0 + 20u, tk1), delta4(bh, i0 + 20u));
        s1.t[6] = ds_t(s1.t[6], keep_t(dp1.t[6], bh, i0 + 24u, tk1), delta4(bh, i0 + 24u));
        s1.t[7] = ds_t(s1.t[7], keep_t(dp1.t[7], bh, i0 + 28u, tk1), delta4(bh, i0 + 28u));
      }
      for (var v = 0u; v < RC; v++) {
        let cv = g * RC + v;
        if (cv < DQ4) {
          let r = dsq(acck.t[v], acck1.t[v], s, s1, b, h, i0, cv);
          acck.t[v] = r.a;
          if (RM > 1) { acck1.t[v] = r.b; }
        }
      }
    }
  }
  for (var v = 0u; v < RC; v++) {
    let cv = g * RC + v;
    if (need_dk() && cv < DQ4) {
      store_k(b, h, t0, cv, acck.t[v]);
      if (RM > 1) { store_k(b, h, t0 + 4u, cv, acck1.t[v]); }
    }
    if (need_dv() && cv < DV4) {
      store_v(b, h, t0, cv, accv.t[v]);
      if (RM > 1) { store_v(b, h, t0 + 4u, cv, accv1.t[v]); }
    }
  }
}
