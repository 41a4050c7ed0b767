// Deterministic scatter-add: out[r, c] = Σ_{j in segment r} g[perm[j], c], summed in
// ascending source position (perm is sorted within segments), so the bits never depend on
// scheduling. One invocation per (CSR entry, column); only the first entry of each segment
// sums it. Rows with no entry must be zeroed beforehand.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = linear_id(wid, nwg, lid);
  if (t >= u.n * u.row) { return; }
  let j = t / u.row;
  let c = t % u.row;
  if (j >= u32(row_ptr[u.rows])) { return; }
  let r = idx[perm[j]];
  let s = u32(row_ptr[r]);
  if (j != s) { return; }
  let e = u32(row_ptr[r + 1]);
  var acc = 0.0;
  for (var k = s; k < e; k++) { acc += g[u32(perm[k]) * u.row + c]; }
  out[u32(r) * u.row + c] = acc;
}
