// The adjoint of im2col: img[n, ch, y, x] = Σ of the column entries that read that pixel
// (gathered, so no atomics and a fixed summation order). One invocation per image element; the
// loop visits the KH·KW taps and keeps those whose output position lands on the stride grid.
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
  let sy = i32(at8(u.s, 0u));
  let sx = i32(at8(u.s, 1u));
  let cg = C / at8(u.s, 6u);
  var n: u32; var ch: u32; var y: u32; var x: u32;
  if (NHWC) {
    ch = idx % C; x = (idx / C) % W; y = (idx / (C * W)) % H; n = idx / (C * W * H);
  } else {
    x = idx % W; y = (idx / W) % H; ch = (idx / (W * H)) % C; n = idx / (W * H * C);
  }
  let grp = ch / cg;
  let ci = ch % cg;
  let K = cg * KH * KW;
  let P = at8(u.g, 0u) * OH * OW;
  var acc = 0.0;
  for (var ky = 0u; ky < KH; ky++) {
    let ty = i32(y) + i32(at8(u.s, 2u)) - i32(ky * at8(u.s, 4u));
    if ((ty < 0) || (ty % sy != 0)) { continue; }
    let oy = u32(ty / sy);
    if (oy >= OH) { continue; }
    for (var kx = 0u; kx < KW; kx++) {
      let tx = i32(x) + i32(at8(u.s, 3u)) - i32(kx * at8(u.s, 5u));
      if ((tx < 0) || (tx % sx != 0)) { continue; }
      let ox = u32(tx / sx);
      if (ox >= OW) { continue; }
      let p = (n * OH + oy) * OW + ox;
      acc += cols[(grp * P + p) * K + (ci * KH + ky) * KW + kx];
    }
  }
  img[idx] = acc;
}
