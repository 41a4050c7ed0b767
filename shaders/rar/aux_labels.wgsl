// RAR's auxiliary labels: labels[t] = 1 when item idx[t] is a training positive of the user of
// row t / k (positives as a CSR ptr/items, each row sorted), else 0. Binary search, bounded.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = linear_id(wid, nwg, lid);
  if (t >= u.n) { return; }
  let user = users[t / u.k];
  let it = idx[t];
  var lo = ptr[user];
  var hi = ptr[user + 1];
  for (var s = 0u; (s < 32u) && (lo < hi); s++) {
    let mid = (lo + hi) / 2;
    if (items[mid] < it) { lo = mid + 1; } else { hi = mid; }
  }
  var hit = 0.0;
  if ((lo < ptr[user + 1]) && (items[lo] == it)) { hit = 1.0; }
  labels[t] = hit;
}
