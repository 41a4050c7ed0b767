// out = P(x0 … x5) elementwise, P a straight-line program over 32 registers, read from `prog`
// (src/ops/core/fused.ts compiles expressions into it). One instruction is 3 words:
//   code | a << 8 | b << 16 | dst << 24, then alpha and beta as f32 bits;
//   code < 32: r[dst] = unary_fn(code, r[a], alpha, beta)
//   code < 64: r[dst] = binary_fn(code - 32, r[a], r[b])
//   code < 96: r[dst] = unary_dfn(code - 64, r[a], r[b] (= f(r[a])), alpha)
//   else:      r[dst] = alpha (a constant)
// Input k starts in r[k], read through its strides s_k (0 on broadcast dims). RANK = 0 (a
// define) when every input has the output's shape. Elementwise fns: elementwise_fns.wgsl.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.n) { return; }
  var ix = array<u32, 6>(i, i, i, i, i, i);
  if (RANK > 0) {
    ix = array<u32, 6>(0u, 0u, 0u, 0u, 0u, 0u);
    var rem = i;
    for (var d = RANK - 1; d >= 0; d--) {
      let k = u32(d);
      let c = rem % at8(u.shape, k);
      rem = rem / at8(u.shape, k);
      ix[0] += c * at8(u.s0, k);
      ix[1] += c * at8(u.s1, k);
      ix[2] += c * at8(u.s2, k);
      ix[3] += c * at8(u.s3, k);
      ix[4] += c * at8(u.s4, k);
      ix[5] += c * at8(u.s5, k);
    }
  }
  var r: array<f32, 32>;
  r[0] = x0[ix[0]];
  if (u.nin > 1u) { r[1] = x1[ix[1]]; }
  if (u.nin > 2u) { r[2] = x2[ix[2]]; }
  if (u.nin > 3u) { r[3] = x3[ix[3]]; }
  if (u.nin > 4u) { r[4] = x4[ix[4]]; }
  if (u.nin > 5u) { r[5] = x5[ix[5]]; }
  for (var p = 0u; p < u.len; p++) {
    let w = u32(prog[3u * p]);
    let code = w & 0xffu;
    let a = (w >> 8u) & 0xffu;
    let b = (w >> 16u) & 0xffu;
    let alpha = bitcast<f32>(prog[3u * p + 1u]);
    var v = alpha;
    if (code < 32u) {
      v = unary_fn(code, r[a], alpha, bitcast<f32>(prog[3u * p + 2u]));
    } else if (code < 64u) {
      v = binary_fn(code - 32u, r[a], r[b]);
    } else if (code < 96u) {
      v = unary_dfn(code - 64u, r[a], r[b], alpha);
    }
    r[(w >> 24u) & 31u] = v;
  }
  out[i] = r[u.res];
}
