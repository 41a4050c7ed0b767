// out[dst_off + Σ idx·dst_stride] = x[src_off + Σ idx·src_stride] for every multi-index idx
// of `shape`. One kernel serves permute, slice, concat (one call per part) and broadcast.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.n) { return; }
  var rem = i;
  var s = u.src_off;
  var t = u.dst_off;
  // RANK is a compile-time constant (dims are collapsed first), so this loop unrolls.
  for (var d = RANK - 1; d >= 0; d--) {
    let dim = at8(u.shape, u32(d));
    let c = rem % dim;
    rem = rem / dim;
    s += c * at8(u.src_stride, u32(d));
    t += c * at8(u.dst_stride, u32(d));
  }
  out[t] = x[s];
}
