// Columns of a (grouped, strided, padded, dilated) convolution: cols[grp, p, k] with
// p = (n·OH + oy)·OW + ox the output position and k = (ci·KH + ky)·KW + kx, which is PyTorch's
// flattening of a weight [Cout, C/groups, KH, KW]. Padding reads as 0. One invocation per entry.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let idx = linear_id(wid, nwg, lid);
  if (idx >= u.total) { return; }
  let OH = at8(u.g, 4u);
  let OW = at8(u.g, 5u);
  let KH = at8(u.g, 6u);
  let KW = at8(u.g, 7u);
  let cg = at8(u.g, 1u) / at8(u.s, 6u);
  let K = cg * KH * KW;
  let P = at8(u.g, 0u) * OH * OW;
  let k = idx % K;
  let row = idx / K;
  let p = row % P;
  let grp = row / P;
  let kx = k % KW;
  let ky = (k / KW) % KH;
  let ci = k / (KW * KH);
  let ox = p % OW;
  let oy = (p / OW) % OH;
  let n = p / (OW * OH);
  let iy = i32(oy * at8(u.s, 0u) + ky * at8(u.s, 4u)) - i32(at8(u.s, 2u));
  let ix = i32(ox * at8(u.s, 1u) + kx * at8(u.s, 5u)) - i32(at8(u.s, 3u));
  var v = 0.0;
  if ((iy >= 0) && (ix >= 0) && (iy < i32(at8(u.g, 2u))) && (ix < i32(at8(u.g, 3u)))) {
    v = x[img_index(n, grp * cg + ci, u32(iy), u32(ix))];
  }
  cols[idx] = v;
}
