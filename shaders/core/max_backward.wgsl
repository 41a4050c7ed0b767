// Gradient of max/min over the middle axis of [outer, red, inner]: gx (zeroed by the host)
// receives gy[o, k] at row idx[o, k]. Outputs write distinct elements: no races, no atomics.
// idx comes from argmax.wgsl; it is clamped anyway so a bad index can never write out of range.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.outer * u.inner) { return; }
  let o = i / u.inner;
  let k = i % u.inner;
  let r = u32(clamp(idx[i], 0, i32(u.red) - 1));
  gx[(o * u.red + r) * u.inner + k] = gy[i];
}
