// out = a ⊙ b with NumPy broadcasting: the strides of a and b are 0 on broadcast dims.
// SAME (a define) skips the index arithmetic when both operands have the output's shape.
fn op(a: f32, b: f32) -> f32 {
  switch (OP) {
    case 0: { return a + b; }
    case 1: { return a - b; }
    case 2: { return a * b; }
    case 3: { return a / b; }
    case 4: {
      if (b == 0.0) { return 1.0; } // x^0 = 1 even at 0 (WGSL's pow(0, 0) is undefined)
      let r = pow(abs(a), b);
      if (a >= 0.0) { return r; }
      if (fract(b) != 0.0) { return bitcast<f32>(0x7fc00000u); }
      return select(r, -r, fract(b * 0.5) != 0.0);
    }
    case 5: { return max(a, b); }
    case 6: { return min(a, b); }
    case 7: { return select(0.0, 1.0, a >= b); }
    case 8: { return select(0.0, 1.0, a > b); }
    default: { return select(0.0, 1.0, a == b); }
  }
}
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.n) { return; }
  if (SAME) { out[i] = op(a[i], b[i]); return; }
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
  out[i] = op(a[ia], b[ib]);
}
