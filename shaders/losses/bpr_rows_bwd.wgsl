// Gradient of bpr_rows w.r.t. the table, one invocation per (row r, column c): with
// s_b = w·σ(diff[b]) and w = gy / B, a triple adds s_b·(t[n] − t[p]) to its user's row, −s_b·t[u]
// to its positive's and s_b·t[u] to its negative's. Row r's triples come from a CSR over the
// concatenated ids [users; pos; neg] (entry j: triple j % B, role j / B), summed in that order;
// rows no triple names get 0 (no clear needed).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.rows * u.d) { return; }
  let r = i / u.d;
  let c = i % u.d;
  let w = gy[0] / f32(u.n);
  var acc = 0.0;
  for (var k = u32(row_ptr[r]); k < u32(row_ptr[r + 1u]); k++) {
    let j = u32(perm[k]);
    let b = j % u.n;
    let s = w * sigmoid_safe(diff[b]);
    let role = j / u.n;
    if (role == 0u) {
      acc += (-s) * t[u32(pos[b]) * u.d + c] + s * t[u32(neg[b]) * u.d + c];
    } else {
      let x = t[u32(users[b]) * u.d + c];
      acc += select(s, -s, role == 1u) * x;
    }
  }
  g[i] = acc;
}
