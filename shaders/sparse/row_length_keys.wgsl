// key[r] = longest − (row_ptr[r + 1] − row_ptr[r]): sorting rows by ascending key lists them by
// descending length.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = linear_id(wid, nwg, lid);
  if (r >= u.rows) { return; }
  key[r] = i32(u.longest) - (row_ptr[r + 1u] - row_ptr[r]);
}
