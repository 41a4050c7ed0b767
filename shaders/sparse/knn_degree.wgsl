// deg[r] = Σ val[e] over the entries of CSR row r, in entry order. One invocation per row.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = linear_id(wid, nwg, lid);
  if (r >= u.rows) { return; }
  var acc = 0.0;
  for (var e = u32(row_ptr[r]); e < u32(row_ptr[r + 1u]); e++) { acc += val[e]; }
  deg[r] = acc;
}
