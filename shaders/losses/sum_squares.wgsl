// The Frobenius norm in two passes: invocation b sums x[i]² over its block of u.chunk elements
// (SQUARE), then one invocation sums the block partials and takes the square root (!SQUARE).
// Blocks keep every loop far below the software adapters' loop limit.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let b = linear_id(wid, nwg, lid);
  if (b * u.chunk >= u.n) { return; }
  var acc = 0.0;
  for (var i = b * u.chunk; i < min(u.n, (b + 1u) * u.chunk); i++) {
    let v = x[i];
    if (SQUARE) { acc += v * v; } else { acc += v; }
  }
  if (SQUARE) { out[b] = acc; } else { out[b] = sqrt(acc); }
}
