// Inverse row norms for InfoNCE's L2 normalisation: st[u.off + r] = 1 / max(‖x_r‖, EPS),
// the scale F.normalize applies. One invocation per row of x (u.rows × u.d).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = linear_id(wid, nwg, lid);
  if (r >= u.rows) { return; }
  var ss = 0.0;
  for (var c = 0u; c < u.d; c++) {
    let v = x[r * u.d + c];
    ss += v * v;
  }
  st[u.off + r] = 1.0 / max(sqrt(ss), EPS);
}
