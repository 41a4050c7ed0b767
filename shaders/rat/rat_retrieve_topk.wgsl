// RAT retrieval, pass 1: scores and a running top-k in one pass, no score matrix. Invocation
// (query r0 + t / nch, DB chunk j = t % nch) scans DB rows c0 + j·chunk .. (at most u.chunk,
// below u.n):
//   s = Σ_f [q[r, f] == db[c, f]] · w[r, f]   (w = IDF of the query's value, 0 if unused),
// summed over fields in order, skips s ≤ 0 and, when GROUPS, rows of the query's group
// (group < 0 excludes nothing), and keeps the k best in a private sorted list. Rows arrive in
// increasing order, so a strict > keeps ties on the lower row. Writes the list to cand_v/cand_i
// [t, k] (−Inf / −1 where short); rat_retrieve_merge.wgsl merges the chunks.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = linear_id(wid, nwg, lid);
  if (t >= u.nr * u.nch) { return; }
  let r = u.r0 + t / u.nch;
  let start = u.c0 + (t % u.nch) * u.chunk;
  let end = min(start + u.chunk, u.n);
  let k = u.k;
  let ninf = bitcast<f32>(0xff800000u);
  var bv: array<f32, KC>;
  var bi: array<i32, KC>;
  for (var j = 0u; j < KC; j++) { bv[j] = ninf; bi[j] = -1; }
  let qo = r * u.f;
  let g = select(-1, qg[r], GROUPS);
  // The query's ids and weights in registers (FQ = fields rounded up to 4, see the wrapper).
  var qv: array<i32, FQ>;
  var wv: array<f32, FQ>;
  for (var f = 0u; f < u.f; f++) { qv[f] = q[qo + f]; wv[f] = w[qo + f]; }
  for (var c = start; c < end; c++) {
    if (g >= 0 && dg[c] == g) { continue; }
    let co = c * u.f;
    var s = 0.0;
    for (var f = 0u; f < u.f; f++) {
      if (qv[f] == db[co + f]) { s += wv[f]; }
    }
    if (!(s > 0.0) || !(s > bv[k - 1u])) { continue; }
    var p = k - 1u;
    while (p > 0u && s > bv[p - 1u]) {
      bv[p] = bv[p - 1u];
      bi[p] = bi[p - 1u];
      p--;
    }
    bv[p] = s;
    bi[p] = i32(c);
  }
  for (var j = 0u; j < k; j++) { cand_v[t * k + j] = bv[j]; cand_i[t * k + j] = bi[j]; }
}
