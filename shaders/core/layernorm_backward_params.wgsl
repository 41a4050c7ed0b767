// γ and β gradients of layer norm, stage 1: for column c and block k of u.chunk rows,
// pg[k, c] = Σ gy · x̂ and pb[k, c] = Σ gy over the block's rows, in row order. Stage 2 (the
// host) sums the blocks with reduce.wgsl; both stages have a fixed order: deterministic.
@compute @workgroup_size(WG_X)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let c = g.x;
  let k = g.y;
  if (c >= u.n) { return; }
  let r0 = k * u.chunk;
  let r1 = min(u.rows, r0 + u.chunk);
  var sg = 0.0;
  var sb = 0.0;
  for (var r = r0; r < r1; r++) {
    let i = r * u.n + c;
    let xh = (x[i] - stats[2u * r]) * stats[2u * r + 1u];
    sg += gy[i] * xh;
    sb += gy[i];
  }
  pg[k * u.n + c] = sg;
  pb[k * u.n + c] = sb;
}
