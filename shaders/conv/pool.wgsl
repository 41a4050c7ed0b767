// Average or max pooling (MAX define) over KH×KW windows with stride and zero/−∞ padding; the
// average divides by KH·KW (PyTorch's count_include_pad = True). Max saves the argmax as the
// flat in-plane index y·W + x (first maximum in scan order, as PyTorch) for the backward.
// One invocation per output element (n, c, oy, ox) in the layout of the input.
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
  var n: u32; var ch: u32; var oy: u32; var ox: u32;
  if (NHWC) {
    ch = idx % C; ox = (idx / C) % OW; oy = (idx / (C * OW)) % OH; n = idx / (C * OW * OH);
  } else {
    ox = idx % OW; oy = (idx / OW) % OH; ch = (idx / (OW * OH)) % C; n = idx / (OW * OH * C);
  }
  let y0 = i32(oy * at8(u.s, 0u)) - i32(at8(u.s, 2u));
  let x0 = i32(ox * at8(u.s, 1u)) - i32(at8(u.s, 3u));
  var acc = 0.0;
  var best = bitcast<f32>(0xff800000u);
  var arg = -1;
  for (var ky = 0u; ky < KH; ky++) {
    let iy = y0 + i32(ky);
    if ((iy < 0) || (iy >= i32(H))) { continue; }
    for (var kx = 0u; kx < KW; kx++) {
      let ix = x0 + i32(kx);
      if ((ix < 0) || (ix >= i32(W))) { continue; }
      let v = x[img_index(n, ch, u32(iy), u32(ix))];
      if (MAX) {
        if ((v > best) || (arg < 0) || (v != v)) { best = v; arg = iy * i32(W) + ix; }
      } else {
        acc += v;
      }
    }
  }
  if (MAX) {
    y[idx] = best;
    argmax[idx] = arg;
  } else {
    y[idx] = acc / f32(KH * KW);
  }
}
