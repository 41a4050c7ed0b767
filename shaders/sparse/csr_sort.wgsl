// CSR build, step 3: one pass of a segmented bottom-up merge sort of perm (source positions,
// all distinct). Within each row segment, sorted runs of u.w entries are merged pairwise into
// runs of 2·u.w: an entry's new place is its offset in its own run plus the number of entries
// of the partner run that are smaller (binary search). Segments no longer than u.w are done.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let j = linear_id(wid, nwg, lid);
  let total = u32(row_ptr[u.rows]);
  if (j >= total) { return; }
  let v = src[j];
  let r = idx[v];
  let s = u32(row_ptr[r]);
  let e = u32(row_ptr[r + 1]);
  if (e - s <= u.w) { dst[j] = v; return; }
  let k = j - s;
  let q = k / u.w;
  let run = s + q * u.w;
  var lo: u32;
  var hi: u32;
  var base: u32;
  if (q % 2u == 0u) {
    lo = min(run + u.w, e);
    hi = min(run + 2u * u.w, e);
    base = run;
  } else {
    lo = run - u.w;
    hi = run;
    base = run - u.w;
  }
  // Lower bound of v in src[lo .. hi).
  var a = lo;
  var b = hi;
  while (a < b) {
    let m = (a + b) / 2u;
    if (src[m] < v) { a = m + 1u; } else { b = m; }
  }
  dst[base + (k - q * u.w) + (a - lo)] = v;
}
