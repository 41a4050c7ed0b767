// The K nearest codes of every (row i, sub-space b), sorted by (score, index): one workgroup
// of 32 per pair (linear workgroup index w = i·nb + b). Each thread scans codes lid, lid+32, …
// keeping a sorted private list of K; thread 0 then merges the 32 lists from workgroup memory.
// Scores as in vq_nearest.wgsl: ‖e‖² − 2x·e (L2) or −x·e/‖e‖ (COSINE).
var<workgroup> cv: array<f32, 1024>; // [32][K]
var<workgroup> ci: array<i32, 1024>;

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let w = wid.x + wid.y * nwg.x;
  if (w >= u.n * u.nb) { return; }
  let i = w / u.nb;
  let b = w % u.nb;
  let xb = i * u.x_row + b * u.x_bat;
  var lv: array<f32, K>;
  var li: array<i32, K>;
  for (var t = 0u; t < K; t++) { li[t] = -1; }
  for (var c = lid; c < u.m; c += WG_X) {
    let cb = (b * u.m + c) * u.d;
    var dt = 0.0;
    for (var j = 0u; j < u.d; j++) { dt = fma(x[xb + j], codes[cb + j], dt); }
    let en = enorm[b * u.m + c];
    var s: f32;
    if (COSINE) { s = -dt * en; } else { s = en - 2.0 * dt; }
    // Insertion into the sorted list (codes arrive in increasing order: ties stay behind).
    if (!better(s, i32(c), lv[K - 1u], li[K - 1u])) { continue; }
    var p = K - 1u;
    while (p > 0u && better(s, i32(c), lv[p - 1u], li[p - 1u])) {
      lv[p] = lv[p - 1u];
      li[p] = li[p - 1u];
      p--;
    }
    lv[p] = s;
    li[p] = i32(c);
  }
  for (var t = 0u; t < K; t++) {
    cv[lid * K + t] = lv[t];
    ci[lid * K + t] = li[t];
  }
  workgroupBarrier();
  if (lid != 0u) { return; }
  for (var t = 0u; t < K; t++) { li[t] = -1; }
  for (var q = 0u; q < WG_X * K; q++) {
    let s = cv[q];
    let c = ci[q];
    if (!better(s, c, lv[K - 1u], li[K - 1u])) { continue; }
    var p = K - 1u;
    while (p > 0u && better(s, c, lv[p - 1u], li[p - 1u])) {
      lv[p] = lv[p - 1u];
      li[p] = li[p - 1u];
      p--;
    }
    lv[p] = s;
    li[p] = c;
  }
  for (var t = 0u; t < K; t++) {
    let o = w * K + t;
    idx[o] = li[t];
    if (DIST) {
      if (COSINE) { dist[o] = 1.0 + lv[t] * xnorm[w]; } else { dist[o] = max(xnorm[w] + lv[t], 0.0); }
    }
  }
}
