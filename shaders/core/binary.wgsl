// out = a ⊙ b with NumPy broadcasting: the strides of a and b are 0 on broadcast dims.
// SAME (a define) skips the index arithmetic when both operands have the output's shape.
// binary_fn: shaders/common/elementwise_fns.wgsl.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.n) { return; }
  if (SAME) { out[i] = binary_fn(OP, a[i], b[i]); return; }
  var rem = i;
  var ia = 0u;
  var ib = 0u;
  // RANK is a compile-time constant (dims are collapsed first), so this loop unrolls.
  for (var d = RANK - 1; d >= 0; d--) {
    let dim = at8(u.shape, u32(d));
    let c = rem % dim;
    rem = rem / dim;
    ia += c * at8(u.sa, u32(d));
    ib += c * at8(u.sb, u32(d));
  }
  out[i] = binary_fn(OP, a[ia], b[ib]);
}
