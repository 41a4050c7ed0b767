// Full-ranking mask: sets scores[row, item] = NaN (skipped by topk) for every item of the
// row's user in the exclusion CSR (ptr, items). One workgroup per row of the score chunk.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= u.rows) { return; }
  let user = users[row];
  let s = u32(ptr[user]);
  let e = u32(ptr[user + 1]);
  for (var j = s + lid; j < e; j += WG_X) {
    let it = items[j];
    if (it >= 0 && u32(it) < u.len) { scores[row * u.len + u32(it)] = bitcast<f32>(0x7fc00000u); }
  }
}
