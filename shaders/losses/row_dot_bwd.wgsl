// Gradient of the row-wise dot products, both operands in one pass: ga = gy[r] · b,
// gb = gy[r] · a, one invocation per element.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.n) { return; }
  let g = gy[i / u.d];
  ga[i] = g * b[i];
  gb[i] = g * a[i];
}
