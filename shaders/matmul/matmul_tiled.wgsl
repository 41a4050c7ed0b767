// C[bt] = act(op(A[bt]) · op(B[bt]) + bias) for hardware GPUs: the classic workgroup-memory
// tiling. A 16×16 workgroup computes a TILE×TILE tile of C (TILE = 16·TR); each invocation owns
// TR×TR outputs at rows ty + 16·i, columns tx + 16·j (so a warp reads consecutive B entries and
// a broadcast A entry from workgroup memory). K is walked in slices of 16 staged in workgroup
// memory; global reads are laid out so that neighbouring invocations read neighbouring addresses
// for every transpose variant. Edges are zero-filled on load and skipped on store.
//
// Defines: TR (1, 2 or 4), TILE = 16·TR, ST = TILE + 1 (row stride of a staged slice, padded so
// that 16 invocations storing down a column hit different banks), SH = 16·ST; TRANS_A (A stored
// [K, M]), TRANS_B (B stored [N, K]); BIAS; ACT: 0 none, 1 relu, 2 gelu, 3 tanh, 4 sigmoid.

const KT = 16u;
var<workgroup> sa: array<f32, SH>;
var<workgroup> sb: array<f32, SH>;

fn act(x: f32) -> f32 {
  switch (ACT) {
    case 1: { return max(x, 0.0); }
    case 2: {
      let z = x * 0.70710678118654752;
      let t = 1.0 / (1.0 + 0.3275911 * abs(z));
      let p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
      return 0.5 * x * (1.0 + sign(z) * (1.0 - p * exp(-z * z)));
    }
    case 3: {
      let e = exp(-2.0 * abs(x));
      return sign(x) * (1.0 - e) / (1.0 + e);
    }
    case 4: {
      let e = exp(-abs(x));
      return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
    }
    default: { return x; }
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row0 = wid.y * TILE;
  let col0 = wid.x * TILE;
  let bt = wid.z;
  let abase = bt * u.stride_a;
  let bbase = bt * u.stride_b;
  var acc: array<array<f32, TR>, TR>;
  for (var k0 = 0u; k0 < u.k; k0 += KT) {
    for (var s = 0u; s < TR; s++) {
      let e = lid + 256u * s;
      // A slice as sa[kk · ST + mm]; read along the contiguous axis of A.
      var kk = e % KT;
      var mm = e / KT;
      if (TRANS_A) {
        kk = e / TILE;
        mm = e % TILE;
      }
      let ar = row0 + mm;
      let ak = k0 + kk;
      var av = 0.0;
      if (ar < u.m && ak < u.k) {
        if (TRANS_A) { av = a[abase + ak * u.m + ar]; } else { av = a[abase + ar * u.k + ak]; }
      }
      sa[kk * ST + mm] = av;
      // B slice as sb[kk · ST + nn].
      var bk = e / TILE;
      var nn = e % TILE;
      if (TRANS_B) {
        bk = e % KT;
        nn = e / KT;
      }
      let bc = col0 + nn;
      let bkk = k0 + bk;
      var bv = 0.0;
      if (bc < u.n && bkk < u.k) {
        if (TRANS_B) { bv = b[bbase + bc * u.k + bkk]; } else { bv = b[bbase + bkk * u.n + bc]; }
      }
      sb[bk * ST + nn] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < KT; kk++) {
      var ar: array<f32, TR>;
      var br: array<f32, TR>;
      for (var i = 0u; i < TR; i++) {
        ar[i] = sa[kk * ST + l.y + 16u * i];
        br[i] = sb[kk * ST + l.x + 16u * i];
      }
      for (var i = 0u; i < TR; i++) {
        for (var j = 0u; j < TR; j++) { acc[i][j] = fma(ar[i], br[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  let cbase = bt * u.m * u.n;
  for (var i = 0u; i < TR; i++) {
    let r = row0 + l.y + 16u * i;
    if (r >= u.m) { continue; }
    for (var j = 0u; j < TR; j++) {
      let cl = col0 + l.x + 16u * j;
      if (cl < u.n) {
        var v = acc[i][j];
        if (BIAS) { v += bias[cl]; }
        c[cbase + r * u.n + cl] = act(v);
      }
    }
  }
}
