// Gradient of Σ_j ‖t[ids_j]‖ w.r.t. t: row r gets gy · t[r] · Σ_j cnt[j, r] / ‖t[ids_j]‖, where
// cnt[j, r] counts r in list j (a norm of 0 adds 0, as PyTorch's subgradient). One invocation
// per row (the coefficient is loaded once, not per element); every row is written.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = linear_id(wid, nwg, lid);
  if (r >= u.rows) { return; }
  var coef = 0.0;
  for (var j = 0u; j < u.lists; j++) {
    let y = norms[j];
    coef += select(0.0, f32(cnt[j * u.rows + r]) / y, y > 0.0);
  }
  let s = gy[0] * coef;
  for (var i = r * u.d; i < (r + 1u) * u.d; i++) { g[i] = s * t[i]; }
}
