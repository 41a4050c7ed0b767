// CSR × dense: out[r, c] = Σ_{e in row r} val[e] · x[col[e], c], summed in entry order
// (deterministic). One invocation per output element; neighbouring invocations share a row
// and read neighbouring columns of x.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = linear_id(wid, nwg, lid);
  if (t >= u.m * u.d) { return; }
  let r = t / u.d;
  let c = t % u.d;
  var acc = 0.0;
  for (var e = u32(row_ptr[r]); e < u32(row_ptr[r + 1u]); e++) {
    acc += val[e] * x[u32(col[e]) * u.d + c];
  }
  out[t] = acc;
}
