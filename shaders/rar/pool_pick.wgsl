// RAR's picked recall items: idx[t] is a position in the pool of request t / k (from a row
// top-k); item[t] = ids[(t / k) · per + idx[t]], the item id at that position, or −1 where the
// top-k padded (idx −1: fewer than k items left in the pool).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = linear_id(wid, nwg, lid);
  if (t >= u.n) { return; }
  let j = idx[t];
  var it = -1;
  if (j >= 0) { it = ids[(t / u.k) * u.per + min(u32(j), u.per - 1u)]; }
  item[t] = it;
}
