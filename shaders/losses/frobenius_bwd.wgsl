// Gradient of the Frobenius norm y = ‖x‖: gx = gy · x / y, and 0 where y = 0 (PyTorch's
// subgradient).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.n) { return; }
  let y = norm[0];
  gx[i] = select(0.0, gy[0] * x[i] / y, y > 0.0);
}
