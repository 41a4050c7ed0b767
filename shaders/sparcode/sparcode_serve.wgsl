// SparCode serving: scores[b, i] = Σ_k Σ_{(i, s) ∈ list(codes[b, k])} s, the posting lists of
// a query's K codes scatter-added into a dense row of item scores. One workgroup per query:
// it zeroes its row, then adds the lists in token order k = 0, 1, …; an item occurs at most
// once per list, so the threads of one list never collide, and a storage barrier between
// lists fixes the order of the sums (deterministic, no float atomics). A code outside
// [0, ncodes) adds nothing and is recorded in the index-guard slot.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let q = wid.x + wid.y * nwg.x;
  let live = q < u.nq;
  let row = q * u.len;
  if (live) {
    for (var j = lid; j < u.len; j += WG_X) { scores[row + j] = 0.0; }
  }
  storageBarrier();
  for (var k = 0u; k < u.k; k++) {
    if (live) {
      let c = codes[q * u.k + k];
      if ((c < 0) || (u32(c) >= u.ncodes)) {
        if (lid == 0u) { flag_bad(q * u.k + k, c); }
      } else {
        let e = u32(ptr[c + 1]);
        for (var p = u32(ptr[c]) + lid; p < e; p += WG_X) {
          let it = u32(items[p]);
          scores[row + it] += vals[p];
        }
      }
    }
    storageBarrier();
  }
}
