// y = f(x) elementwise; OP selects f at pipeline-build time (see src/ops/core/elementwise.ts).
// erf_approx, log1p_unit and sigmoid_safe: shaders/common/numerics.wgsl.
// tanh through exp(-2|x|): never overflows, unlike (e^2x - 1) / (e^2x + 1).
fn tanh_safe(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}
fn pow_real(x: f32, a: f32) -> f32 {
  if (a == 0.0) { return 1.0; } // x^0 = 1 even at 0 (WGSL's pow(0, 0) is undefined)
  let r = pow(abs(x), a);
  if (x >= 0.0) { return r; }
  if (fract(a) != 0.0) { return bitcast<f32>(0x7fc00000u); } // NaN, as in PyTorch
  return select(r, -r, fract(a * 0.5) != 0.0);
}
fn f(x: f32) -> f32 {
  switch (OP) {
    case 0: { return -x; }
    case 1: { return exp(x); }
    case 2: { return log(x); }
    case 3: { return sqrt(x); }
    case 4: { return max(x, 0.0); }
    case 5: { return 0.5 * x * (1.0 + erf_approx(x * 0.70710678118654752)); }
    case 6: { return sigmoid_safe(x); }
    case 7: { return tanh_safe(x); }
    case 8: { return abs(x); }
    case 9: { return x * x; }
    case 10: { return u.alpha * x + u.beta; }
    case 11: { return pow_real(x, u.alpha); }
    case 12: { return min(x, 0.0) - log1p_unit(exp(-abs(x))); }
    default: { return max(x, 0.0) + log1p_unit(exp(-abs(x))); }
  }
}
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i < u.n) { y[i] = f(x[i]); }
}
