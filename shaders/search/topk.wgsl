// Running row-wise top-k (k ≤ KC): merges the scores of one column chunk, x[row, 0 .. u.len)
// (global column u.col_off + c), into the current best list of each row held in vals/idx
// (read first when u.init = 1). Order: larger value first, ties to the lower column. NaN
// scores are skipped (they mark masked or excluded entries); rows with fewer than k scores
// are padded with value −Inf and index −1. One workgroup per row: every invocation keeps a
// sorted private list of its strided columns, then the lists are merged pairwise in
// workgroup memory.
var<workgroup> sk: array<u32, WG_X * KC>;
var<workgroup> si: array<u32, WG_X * KC>;

// Order-preserving map f32 → u32 (−0 = +0); 0 is left for "empty".
fn key_of(x: f32) -> u32 {
  var b = bitcast<u32>(x);
  if (b == 0x80000000u) { b = 0u; }
  if ((b & 0x80000000u) != 0u) { return ~b; }
  return b | 0x80000000u;
}
fn val_of(k: u32) -> f32 {
  if (k == 0u) { return bitcast<f32>(0xff800000u); }
  if ((k & 0x80000000u) != 0u) { return bitcast<f32>(k & 0x7fffffffu); }
  return bitcast<f32>(~k);
}
fn better(ka: u32, ia: u32, kb: u32, ib: u32) -> bool {
  return ka > kb || (ka == kb && ia < ib);
}

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= u.rows) { return; }
  let k = u.k;
  var lk: array<u32, KC>;
  var li: array<u32, KC>;
  for (var j = 0u; j < KC; j++) { lk[j] = 0u; li[j] = 0xffffffffu; }
  var n = 0u;
  if (u.init != 0u && lid == 0u) {
    for (var j = 0u; j < k; j++) {
      let i = idx[row * k + j];
      if (i >= 0) { lk[n] = key_of(vals[row * k + j]); li[n] = u32(i); n++; }
    }
  }
  var tk = lk[k - 1u];
  var ti = li[k - 1u];
  for (var c = lid; c < u.len; c += WG_X) {
    let v = x[row * u.len + c];
    if ((bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u) { continue; } // NaN
    let gc = u.col_off + c;
    if (EXCL_DIAG && gc == u.row_off + row) { continue; }
    let key = key_of(v);
    // (tk, ti): the current k-th entry, kept in registers (most candidates stop here).
    if (n == k && !better(key, gc, tk, ti)) { continue; }
    if (n < k) { n++; }
    var p = n - 1u;
    while (p > 0u && better(key, gc, lk[p - 1u], li[p - 1u])) {
      lk[p] = lk[p - 1u];
      li[p] = li[p - 1u];
      p--;
    }
    lk[p] = key;
    li[p] = gc;
    tk = lk[k - 1u];
    ti = li[k - 1u];
  }
  for (var j = 0u; j < KC; j++) { sk[lid * KC + j] = lk[j]; si[lid * KC + j] = li[j]; }
  workgroupBarrier();
  for (var s = 1u; s < WG_X; s = s * 2u) {
    if (lid % (2u * s) == 0u) {
      let a = lid * KC;
      let b = (lid + s) * KC;
      var ia = 0u;
      var ib = 0u;
      for (var j = 0u; j < k; j++) {
        if (better(sk[b + ib], si[b + ib], sk[a + ia], si[a + ia])) {
          lk[j] = sk[b + ib]; li[j] = si[b + ib]; ib++;
        } else {
          lk[j] = sk[a + ia]; li[j] = si[a + ia]; ia++;
        }
      }
      for (var j = 0u; j < k; j++) { sk[a + j] = lk[j]; si[a + j] = li[j]; }
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    for (var j = 0u; j < k; j++) {
      vals[row * k + j] = val_of(sk[j]);
      idx[row * k + j] = select(i32(si[j]), -1, sk[j] == 0u);
    }
  }
}
