// Row-wise dot products of a and b [rows, d]: out[r] = Σ_c a[r, c] · b[r, c], in column order.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = linear_id(wid, nwg, lid);
  if (r >= u.rows) { return; }
  var acc = 0.0;
  for (var c = r * u.d; c < (r + 1u) * u.d; c++) { acc += a[c] * b[c]; }
  out[r] = acc;
}
