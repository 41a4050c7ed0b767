// Gradient of pool: gx[n, c, iy, ix] gathers gy over the windows that contain the pixel (for
// max, only the windows whose saved argmax is this pixel). One invocation per input element.
fn window_lo(i: u32, pad: u32, k: u32, stride: u32) -> u32 {
  // First window o with o·stride − pad + k − 1 ≥ i.
  let t = i32(i) + i32(pad) - i32(k) + 1;
  if (t <= 0) { return 0u; }
  return (u32(t) + stride - 1u) / stride;
}

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let idx = linear_id(wid, nwg, lid);
  if (idx >= u.total) { return; }
  let C = at8(u.g, 1u);
  let H = at8(u.g, 2u);
  let W = at8(u.g, 3u);
  let OH = at8(u.g, 4u);
  let OW = at8(u.g, 5u);
  let KH = at8(u.g, 6u);
  let KW = at8(u.g, 7u);
  let sy = at8(u.s, 0u);
  let sx = at8(u.s, 1u);
  var n: u32; var ch: u32; var y: u32; var x: u32;
  if (NHWC) {
    ch = idx % C; x = (idx / C) % W; y = (idx / (C * W)) % H; n = idx / (C * W * H);
  } else {
    x = idx % W; y = (idx / W) % H; ch = (idx / (W * H)) % C; n = idx / (W * H * C);
  }
  let oy_hi = min(OH, (y + at8(u.s, 2u)) / sy + 1u);
  let ox_hi = min(OW, (x + at8(u.s, 3u)) / sx + 1u);
  let me = i32(y * W + x);
  var acc = 0.0;
  for (var oy = window_lo(y, at8(u.s, 2u), KH, sy); oy < oy_hi; oy++) {
    for (var ox = window_lo(x, at8(u.s, 3u), KW, sx); ox < ox_hi; ox++) {
      var o: u32;
      if (NHWC) { o = ((n * OH + oy) * OW + ox) * C + ch; }
      else { o = ((n * C + ch) * OH + oy) * OW + ox; }
      if (MAX) {
        if (argmax[o] == me) { acc += gy[o]; }
      } else {
        acc += gy[o];
      }
    }
  }
  if (MAX) { gx[idx] = acc; } else { gx[idx] = acc / f32(KH * KW); }
}
