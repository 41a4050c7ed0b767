// RAR's per-request recall pool, exact scores: out[t] = q[t / per] · p[t] over d floats (the
// target's vector and row t of its request's pool); `skip` (NaN: top-k passes over it) where
// the pool item ids[t] is the request's ex.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = linear_id(wid, nwg, lid);
  if (t >= u.n) { return; }
  let r = t / u.per;
  var s = 0.0;
  for (var j = 0u; j < u.d; j++) { s += q[r * u.d + j] * p[t * u.d + j]; }
  if (ids[t] == ex[r]) { s = u.skip; }
  out[t] = s;
}
