// Fused nearest-code search: for every row i and sub-space b (grid y), the code k minimising
// ‖e_k‖² − 2·x·e_k (L2; ‖x‖² is constant per row) or −x·e_k/‖e_k‖ (COSINE), without ever
// storing the N×M score matrix. A workgroup takes a 64-row × 128-code tile per step: the dot
// products run as a small matmul over TK-wide slices of d staged in workgroup memory, each
// thread owns 4 rows × 8 codes (strided by 16, so reads of the staged tiles do not collide)
// and keeps a running best per row; the 16 threads sharing a row reduce at the end.
// Ties go to the lowest code index: each thread sees its codes in increasing order and keeps
// the first strict minimum, and the final reduction orders by (score, index).
// enorm[b·m + k] is ‖e‖² (L2) or 1/‖e‖ (COSINE); xnorm[i·nb + b] is ‖x‖² or 1/‖x‖ (DIST only).
const TM = 64u;
const TN = 128u;
const TK = 16u;
var<workgroup> xs: array<f32, 1024>; // [TK][TM]
var<workgroup> es: array<f32, 2048>; // [TK][TN]
var<workgroup> ri: array<i32, 1024>; // final reduction: [TM][16] indices (scores reuse xs)

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let b = wid.y;
  let row0 = wid.x * TM;
  let tx = l.x;
  let ty = l.y;
  let xbase = b * u.x_bat;
  let cbase = b * u.m;
  var best: array<f32, 4>;
  var bi = array<i32, 4>(-1, -1, -1, -1);
  for (var c0 = 0u; c0 < u.m; c0 += TN) {
    // Explicitly zeroed: a declaration in a loop is not re-initialised by every compiler.
    var acc = array<array<f32, 8>, 4>();
    for (var k0 = 0u; k0 < u.d; k0 += TK) {
      // Stage x[row0 .. +64, k0 .. +16] and e[c0 .. +64, k0 .. +16]; consecutive threads
      // read consecutive k (coalesced), zero outside the matrices.
      for (var q = 0u; q < 4u; q++) {
        let e = lid + 256u * q;
        let r = e / TK;
        let k = e % TK;
        var xv = 0.0;
        if (row0 + r < u.n && k0 + k < u.d) { xv = x[(row0 + r) * u.x_row + xbase + k0 + k]; }
        xs[k * TM + r] = xv;
      }
      for (var q = 0u; q < 8u; q++) {
        let e = lid + 256u * q;
        let r = e / TK;
        let k = e % TK;
        var ev = 0.0;
        if (c0 + r < u.m && k0 + k < u.d) { ev = codes[(cbase + c0 + r) * u.d + k0 + k]; }
        es[k * TN + r] = ev;
      }
      workgroupBarrier();
      for (var kk = 0u; kk < TK; kk++) {
        var a = array<f32, 4>();
        var e = array<f32, 8>();
        for (var r = 0u; r < 4u; r++) { a[r] = xs[kk * TM + ty + 16u * r]; }
        for (var c = 0u; c < 8u; c++) { e[c] = es[kk * TN + tx + 16u * c]; }
        for (var r = 0u; r < 4u; r++) {
          for (var c = 0u; c < 8u; c++) { acc[r][c] = fma(a[r], e[c], acc[r][c]); }
        }
      }
      workgroupBarrier();
    }
    for (var c = 0u; c < 8u; c++) {
      let code = c0 + tx + 16u * c;
      if (code >= u.m) { continue; }
      let en = enorm[cbase + code];
      for (var r = 0u; r < 4u; r++) {
        var s: f32;
        if (COSINE) { s = -acc[r][c] * en; } else { s = en - 2.0 * acc[r][c]; }
        if (bi[r] < 0 || s < best[r]) {
          best[r] = s;
          bi[r] = i32(code);
        }
      }
    }
  }
  // Reduce over the 16 threads of each row.
  for (var r = 0u; r < 4u; r++) {
    let row = ty + 16u * r;
    xs[row * 16u + tx] = best[r];
    ri[row * 16u + tx] = bi[r];
  }
  workgroupBarrier();
  if (lid < TM) {
    let row = row0 + lid;
    if (row >= u.n) { return; }
    var v = xs[lid * 16u];
    var k = ri[lid * 16u];
    for (var t = 1u; t < 16u; t++) {
      let v2 = xs[lid * 16u + t];
      let k2 = ri[lid * 16u + t];
      if (better(v2, k2, v, k)) {
        v = v2;
        k = k2;
      }
    }
    let o = row * u.nb + b;
    idx[o] = k;
    if (DIST) {
      // L2: ‖x‖² + (‖e‖² − 2x·e), clamped at 0 against rounding. Cosine: 1 − cos.
      if (COSINE) { dist[o] = 1.0 + v * xnorm[o]; } else { dist[o] = max(xnorm[o] + v, 0.0); }
    }
  }
}
