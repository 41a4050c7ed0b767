// out = cond ? a : b elementwise with broadcasting of all three (strides are 0 on broadcast
// dims). Works on raw 32-bit words, so a and b may be any dtype. cond is "true" when nonzero:
// for f32 conditions (COND_F32) the sign bit is ignored, so −0.0 is false and NaN is true.
// FILL 1 / 2: a / b is the constant word u.fill instead of a tensor (its binding is unused).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.n) { return; }
  var rem = i;
  var ic = 0u;
  var ia = 0u;
  var ib = 0u;
  for (var d = i32(u.rank) - 1; d >= 0; d--) {
    let dim = at8(u.shape, u32(d));
    let k = rem % dim;
    rem = rem / dim;
    ic += k * at8(u.sc, u32(d));
    ia += k * at8(u.sa, u32(d));
    ib += k * at8(u.sb, u32(d));
  }
  var mask = 0xffffffffu;
  if (COND_F32) { mask = 0x7fffffffu; }
  if ((c[ic] & mask) != 0u) {
    if (FILL == 1) { out[i] = u.fill; } else { out[i] = a[ia]; }
  } else {
    if (FILL == 2) { out[i] = u.fill; } else { out[i] = b[ib]; }
  }
}
