// y = (x − mean_c) · rstd_c · γ_c + β_c, elementwise over x viewed as [outer, C, inner].
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.total) { return; }
  let c = (i / u.inner) % u.c;
  var v = (x[i] - stats[2u * c]) * stats[2u * c + 1u];
  if (GAMMA) { v = v * gamma[c]; }
  if (BETA) { v = v + beta[c]; }
  y[i] = v;
}
