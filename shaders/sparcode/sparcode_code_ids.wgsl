// Product-quantisation codes → one code id per token: ids[t] = Σ_m codes[t, m]·N^(M−1−m)
// (sub-space 0 most significant), the row of the (code × item) table and of the inverted
// index. A sub-code outside [0, N) makes the id −1 and is recorded in the index-guard slot.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = linear_id(wid, nwg, lid);
  if (t >= u.n) { return; }
  var id = 0;
  var ok = true;
  for (var m = 0u; m < u.m; m++) {
    let c = codes[t * u.m + m];
    if ((c < 0) || (u32(c) >= u.ncodes)) {
      if (ok) { flag_bad(t * u.m + m, c); }
      ok = false;
    }
    id = id * i32(u.ncodes) + c;
  }
  ids[t] = select(-1, id, ok);
}
