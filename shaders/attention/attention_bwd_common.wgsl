// Helpers shared by the fused attention backward kernels (attention_bwd_dq, attention_bwd_dkv;
// after attention_common.wgsl): the packed aux buffer and clamped vec4 loads of the output
// gradient `go`.

struct CQ { t: array<mat4x4<f32>, 16> }

// Key lengths, log-sum-exp and Δ, packed by attention_bwd_delta.wgsl into `aux`.

// Rows r0..r0+3 of `go` (clamped to the last row) × elements 4c..4c+3 (0 past the row).
fn ld_go(b: u32, h: u32, r0: u32, c: u32) -> mat4x4<f32> {
  let n1 = u.lq - 1u;
  let o0 = row_off(b, h, min(r0, n1), u.lq, D_V);
  let o1 = row_off(b, h, min(r0 + 1u, n1), u.lq, D_V);
  let o2 = row_off(b, h, min(r0 + 2u, n1), u.lq, D_V);
  let o3 = row_off(b, h, min(r0 + 3u, n1), u.lq, D_V);
  if (VV) {
    return mat4x4<f32>(go[o0 / 4u + c], go[o1 / 4u + c], go[o2 / 4u + c], go[o3 / 4u + c]);
  }
  return mat4x4<f32>(row4_go(o0, c), row4_go(o1, c), row4_go(o2, c), row4_go(o3, c));
}
fn el_go(i: u32) -> f32 { return go[i / 4u][i % 4u]; }
fn row4_go(o: u32, c: u32) -> vec4<f32> {
  let d = 4u * c;
  let e = o + D_V - 1u;
  return vec4<f32>(el_go(min(o + d, e)), select(0.0, el_go(min(o + d + 1u, e)), d + 1u < D_V),
    select(0.0, el_go(min(o + d + 2u, e)), d + 2u < D_V),
    select(0.0, el_go(min(o + d + 3u, e)), d + 3u < D_V));
}
