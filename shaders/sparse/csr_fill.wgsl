// CSR build, step 2: places every valid source position i in its row's segment of perm. The
// order inside a segment depends on atomic timing; csr_sort makes it deterministic.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.n) { return; }
  let v = idx[i];
  if (v < 0 || u32(v) >= u.rows) { return; }
  let p = atomicAdd(&cursor[v], 1);
  perm[row_ptr[v] + p] = i32(i);
}
