// Norm of every (row i, sub-space b) vector x[i·x_row + b·x_bat + 0..d): ‖v‖² or, with INV,
// 1/‖v‖ (0 for a zero vector, so a zero code or input scores cosine 0). out[i·nb + b].
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = linear_id(wid, nwg, lid);
  if (r >= u.n * u.nb) { return; }
  let base = (r / u.nb) * u.x_row + (r % u.nb) * u.x_bat;
  var s = 0.0;
  for (var j = 0u; j < u.d; j++) {
    let v = x[base + j];
    s = fma(v, v, s);
  }
  if (INV) {
    out[r] = select(0.0, inverseSqrt(s), s > 0.0);
  } else {
    out[r] = s;
  }
}
