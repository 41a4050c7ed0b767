// Gradient of bpr_rows w.r.t. the table, one invocation per (row r, group of up to 16 columns
// from c0): with s_b = w·σ(diff[b]) and w = gy / B, a triple adds s_b·(t[n] − t[p]) to its user's
// row, −s_b·t[u] to its positive's and s_b·t[u] to its negative's. Row r's triples come from a
// CSR over the concatenated ids [users; pos; neg] (`ids`; entry j: triple j % B, role j / B),
// summed in that order; a group reads each triple's ids once for its 16 columns. Rows no triple names
// get 0 (no clear needed). The column loops run a constant 16 trips (unrolled: software adapters
// count every loop trip of an invocation against one limit, and the row loop may be long).
const CH = 16u;
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let q = linear_id(wid, nwg, lid);
  let groups = (u.d + CH - 1u) / CH;
  if (q >= u.rows * groups) { return; }
  let r = q / groups;
  let c0 = (q % groups) * CH;
  let nc = min(CH, u.d - c0);
  let w = gy[0] / f32(u.n);
  var acc: array<f32, CH>;
  for (var k = u32(row_ptr[r]); k < u32(row_ptr[r + 1u]); k++) {
    let j = u32(perm[k]);
    let b = j % u.n;
    let s = w * sigmoid_safe(diff[b]);
    let role = j / u.n;
    if (role == 0u) {
      let rp = u32(ids[u.n + b]) * u.d + c0;
      let rn = u32(ids[2u * u.n + b]) * u.d + c0;
      for (var c = 0u; c < CH; c++) {
        if (c < nc) { acc[c] += (-s) * t[rp + c] + s * t[rn + c]; }
      }
    } else {
      let ru = u32(ids[b]) * u.d + c0;
      let sr = select(s, -s, role == 1u);
      for (var c = 0u; c < CH; c++) {
        if (c < nc) { acc[c] += sr * t[ru + c]; }
      }
    }
  }
  for (var c = 0u; c < CH; c++) {
    if (c < nc) { g[r * u.d + c0 + c] = acc[c]; }
  }
}
