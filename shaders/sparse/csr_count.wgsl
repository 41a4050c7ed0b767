// CSR build, step 1: cnt[r] = number of i with idx[i] == r. Ids outside [0, u.rows) are not
// counted (every later step skips them too) and are recorded in the index-guard slot.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.n) { return; }
  let v = idx[i];
  if (v < 0 || u32(v) >= u.rows) { flag_bad(i, v); return; }
  atomicAdd(&cnt[v], 1);
}
