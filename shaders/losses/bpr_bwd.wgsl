// BPR backward, one invocation per positive r: with w = gy / (B·K) and
// σ_k = σ(neg[r, k] − pos[r]), gneg[r, k] = w·σ_k and gpos[r] = −w·Σ_k σ_k.

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = linear_id(wid, nwg, lid);
  if (r >= u.rows) { return; }
  let w = gy[0] / (f32(u.rows) * f32(u.k));
  let p = pos[r];
  var acc = 0.0;
  for (var k = 0u; k < u.k; k++) {
    let s = w * sigmoid_safe(neg[r * u.k + k] - p);
    gneg[r * u.k + k] = s;
    acc += s;
  }
  gpos[r] = -acc;
}
