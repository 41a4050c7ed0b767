// CSR × dense: out[r, c] = Σ_{e in row r} val[e] · x[col[e], c], summed in entry order
// (deterministic). One invocation per output element; neighbouring invocations share a row
// and read neighbouring columns of x. With nb > 1 blocks, invocation (b, r, c) sums only the
// row's entries [b·chunk, (b+1)·chunk) into out[b, r·d + c] (the host then sums the blocks):
// software adapters stop loops longer than 65,535 iterations silently.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = linear_id(wid, nwg, lid);
  if (t >= u.nb * u.m * u.d) { return; }
  let b = t / (u.m * u.d);
  let rc = t % (u.m * u.d);
  let r = rc / u.d;
  let c = rc % u.d;
  let start = u32(row_ptr[r]);
  let end = u32(row_ptr[r + 1u]);
  var e0 = start;
  var e1 = end;
  if (u.nb > 1u) {
    e0 = min(end, start + b * u.chunk);
    e1 = min(end, e0 + u.chunk);
  }
  var acc = 0.0;
  for (var e = e0; e < e1; e++) {
    acc += val[e] * x[u32(col[e]) * u.d + c];
  }
  out[t] = acc;
}
