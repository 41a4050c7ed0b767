// gx = gy * f'(x), with y = f(x) at hand (unary_dfn: shaders/common/elementwise_fns.wgsl).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i < u.n) { gx[i] = gy[i] * unary_dfn(OP, x[i], y[i], u.alpha); }
}
