// RAT retrieval, pass 1: scores and a running top-k in one pass, no score matrix. Invocation
// (query block b = t / nch, DB chunk j = t % nch) scores 4 queries, r0 + 4b .. r0 + 4b + 3 (those
// below r0 + nr), against DB rows c0 + j·chunk .. (at most u.chunk, below u.n):
//   s = Σ_f [q[r, f] == db[c, f]] · w[r, f]   (w = IDF of the query's value, 0 if unused),
// summed over fields in order; the queries' ids and weights sit in registers as vec4 lanes, so
// each DB value is loaded once for 4 queries (on llvmpipe every storage load is a per-lane loop).
// Scores ≤ 0 and, when GROUPS, rows of the query's group (group < 0 excludes nothing) are
// skipped; each query keeps its k best in a private sorted list. Rows arrive in increasing order,
// so a strict > keeps ties on the lower row. Writes each list to cand_v/cand_i
// [query, chunk, k] (−Inf / −1 where short); rat_retrieve_merge.wgsl merges the chunks.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = linear_id(wid, nwg, lid);
  let nb = (u.nr + 3u) / 4u;
  if (t >= nb * u.nch) { return; }
  let l0 = (t / u.nch) * 4u; // first query of the block, relative to r0
  let j = t % u.nch;
  let start = u.c0 + j * u.chunk;
  let end = min(start + u.chunk, u.n);
  let k = u.k;
  let ninf = bitcast<f32>(0xff800000u);
  // Lanes of queries past the block's end keep weight 0: they never score above 0.
  var qv: array<vec4<i32>, FQ>;
  var wv: array<vec4<f32>, FQ>;
  var g = vec4<i32>(-1);
  for (var a = 0u; a < 4u; a++) {
    if (l0 + a < u.nr) {
      let qo = (u.r0 + l0 + a) * u.f;
      for (var f = 0u; f < u.f; f++) { qv[f][a] = q[qo + f]; wv[f][a] = w[qo + f]; }
      if (GROUPS) { g[a] = qg[u.r0 + l0 + a]; }
    }
  }
  var bv: array<array<f32, KC>, 4>;
  var bi: array<array<i32, KC>, 4>;
  for (var a = 0u; a < 4u; a++) {
    for (var e = 0u; e < KC; e++) { bv[a][e] = ninf; bi[a][e] = -1; }
  }
  var kth = vec4<f32>(ninf); // each list's k-th score
  for (var c = start; c < end; c++) {
    let co = c * u.f;
    var s = vec4<f32>(0.0);
    for (var f = 0u; f < u.f; f++) {
      s += select(vec4<f32>(0.0), wv[f], qv[f] == vec4<i32>(db[co + f]));
    }
    if (GROUPS) { s = select(s, vec4<f32>(0.0), g >= vec4<i32>(0) & g == vec4<i32>(dg[c])); }
    let take = s > vec4<f32>(0.0) & s > kth;
    if (!any(take)) { continue; }
    for (var a = 0u; a < 4u; a++) {
      if (!take[a]) { continue; }
      let x = s[a];
      var p = k - 1u;
      while (p > 0u && x > bv[a][p - 1u]) {
        bv[a][p] = bv[a][p - 1u];
        bi[a][p] = bi[a][p - 1u];
        p--;
      }
      bv[a][p] = x;
      bi[a][p] = i32(c);
      kth[a] = bv[a][k - 1u];
    }
  }
  for (var a = 0u; a < 4u; a++) {
    if (l0 + a < u.nr) {
      let o = ((l0 + a) * u.nch + j) * k;
      for (var e = 0u; e < k; e++) { cand_v[o + e] = bv[a][e]; cand_i[o + e] = bi[a][e]; }
    }
  }
}
