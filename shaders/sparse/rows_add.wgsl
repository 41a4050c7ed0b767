// x[ids[s], j] += g[s, j] in place, for distinct row ids (no two invocations write one element).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.n) { return; }
  let o = u32(ids[i / u.d]) * u.d + i % u.d;
  x[o] = x[o] + g[i];
}
