// SimHash codes: bit b of row i is 1 when x[i, :] · planes[:, b] > 0 (0 when ≤ 0); bits are
// packed little-endian into u32 words, out[i, w] holding bits 32w .. 32w+31 (high bits of
// the last word are 0). One invocation per (row, word).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = linear_id(wid, nwg, lid);
  if (t >= u.n * u.words) { return; }
  let i = t / u.words;
  let w = t % u.words;
  var code = 0u;
  for (var j = 0u; j < 32u; j++) {
    let b = w * 32u + j;
    if (b >= u.bits) { break; }
    var dot = 0.0;
    for (var c = 0u; c < u.d; c++) { dot += x[i * u.d + c] * planes[c * u.bits + b]; }
    if (dot > 0.0) { code |= 1u << j; }
  }
  out[t] = code;
}
