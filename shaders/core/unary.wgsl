// y = f(x) elementwise; OP selects f at pipeline-build time (see src/ops/core/elementwise.ts).
// unary_fn: shaders/common/elementwise_fns.wgsl.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i < u.n) { y[i] = unary_fn(OP, x[i], u.alpha, u.beta); }
}
