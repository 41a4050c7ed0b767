// 4×4 tile products shared by the register-blocked kernels (matmul_regblock, vq_nearest_rb,
// infonce_*_rb, attention_*; their specs list this file in `lib`). On CPU adapters a mat4x4
// addressed by constant indices stays in registers, and every loaded vec4 feeds 16 FMAs.

// 4×4 tile update: row i of acc += Σ_kk a[i][kk] · bm[kk].
fn mma(acc: mat4x4<f32>, a: mat4x4<f32>, bm: mat4x4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(mrow(acc[0], a[0], bm), mrow(acc[1], a[1], bm), mrow(acc[2], a[2], bm),
                     mrow(acc[3], a[3], bm));
}
fn mrow(c: vec4<f32>, a: vec4<f32>, bm: mat4x4<f32>) -> vec4<f32> {
  return fma(vec4(a.w), bm[3], fma(vec4(a.z), bm[2], fma(vec4(a.y), bm[1], fma(vec4(a.x), bm[0], c))));
}
