// row_of[e] = the row r with row_ptr[r] ≤ e < row_ptr[r + 1] (binary search; skips empty rows).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = linear_id(wid, nwg, lid);
  if (e >= u.nnz) { return; }
  // Largest r in [0, rows) with row_ptr[r] ≤ e.
  var a = 0u;
  var b = u.rows;
  while (b - a > 1u) {
    let m = (a + b) / 2u;
    if (u32(row_ptr[m]) <= e) { a = m; } else { b = m; }
  }
  row_of[e] = i32(a);
}
