// Edge normalisation of a CSR matrix with row sums deg: NORM 1 ('sym') w = d_r^-½ · v · d_c^-½,
// NORM 2 ('rw') w = v / d_r. A degree that is not positive and finite gives weight 0 (as
// MMRec maps the Inf of 0^-½ to 0).
fn ok(d: f32) -> bool { return d > 0.0 && !non_finite(d); }
fn inv_sqrt(d: f32) -> f32 { return select(0.0, 1.0 / sqrt(d), ok(d)); }
fn inv(d: f32) -> f32 { return select(0.0, 1.0 / d, ok(d)); }
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = linear_id(wid, nwg, lid);
  if (e >= u.nnz) { return; }
  let r = row_of[e];
  if (NORM == 1) {
    out[e] = inv_sqrt(deg[r]) * val[e] * inv_sqrt(deg[col[e]]);
  } else {
    out[e] = val[e] * inv(deg[r]);
  }
}
