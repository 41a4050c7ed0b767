// out[i, c] = table[idx[i], c] for rows of u.row 32-bit words (any dtype). An id outside
// [0, u.rows) is never read through: its output row is zero (NaN bits when POISON, the
// numerics-check mode) and the index-guard slot records it.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = linear_id(wid, nwg, lid);
  if (t >= u.n * u.row) { return; }
  let i = t / u.row;
  let c = t % u.row;
  let v = idx[i];
  if (v < 0 || u32(v) >= u.rows) {
    if (c == 0u) { flag_bad(i, v); }
    out[t] = select(0u, 0x7fc00000u, POISON);
    return;
  }
  out[t] = table[u32(v) * u.row + c];
}
