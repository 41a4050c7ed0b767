// Geometry shared by the conv-family kernels. `g` holds [n, c, h, w, oh, ow, kh, kw] and `s`
// holds [stride_y, stride_x, pad_y, pad_x, dil_y, dil_x, groups, 0]. NHWC (a define) selects
// the image layout: [n, h, w, c] instead of [n, c, h, w].
fn img_index(n: u32, ch: u32, y: u32, x: u32) -> u32 {
  let C = at8(u.g, 1u);
  let H = at8(u.g, 2u);
  let W = at8(u.g, 3u);
  if (NHWC) { return ((n * H + y) * W + x) * C + ch; }
  return ((n * C + ch) * H + y) * W + x;
}
