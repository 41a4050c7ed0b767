// Numerics-check mode: raise flags[u.slot] when any of the first u.n values is NaN or Inf.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i < u.n && non_finite(x[i])) {
    atomicOr(&flags[u.slot], 1u);
  }
}
