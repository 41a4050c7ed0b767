// Exclusive prefix sum, level two: adds each block's scanned offset to its values.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i < u.m) { dst[i] += sums[i / u.block]; }
}
