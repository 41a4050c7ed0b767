// The unary and binary elementwise functions and the unary derivatives, by op code, shared by
// unary.wgsl, unary_backward.wgsl, binary.wgsl (op a compile-time define there, so the switch
// folds away) and fused.wgsl (op read from the program). Codes: src/ops/core/elementwise.ts.
// erf_approx, log1p_unit and sigmoid_safe: numerics.wgsl.

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
// y = f(x); alpha, beta parametrise affine (αx + β) and pow (x^α).
fn unary_fn(op: u32, x: f32, alpha: f32, beta: f32) -> f32 {
  switch (op) {
    case 0u: { return -x; }
    case 1u: { return exp(x); }
    case 2u: { return log(x); }
    case 3u: { return sqrt(x); }
    case 4u: { return max(x, 0.0); }
    case 5u: { return 0.5 * x * (1.0 + erf_approx(x * 0.70710678118654752)); }
    case 6u: { return sigmoid_safe(x); }
    case 7u: { return tanh_safe(x); }
    case 8u: { return abs(x); }
    case 9u: { return x * x; }
    case 10u: { return alpha * x + beta; }
    case 11u: { return pow_real(x, alpha); }
    case 12u: { return min(x, 0.0) - log1p_unit(exp(-abs(x))); }
    default: { return max(x, 0.0) + log1p_unit(exp(-abs(x))); }
  }
}
// f'(x), with y = f(x) at hand for the ops whose derivative is cheaper from y.
fn unary_dfn(op: u32, x: f32, y: f32, alpha: f32) -> f32 {
  switch (op) {
    case 0u: { return -1.0; }
    case 1u: { return y; }
    case 2u: { return 1.0 / x; }
    case 3u: { return 0.5 / y; }
    case 4u: { return select(0.0, 1.0, x > 0.0); }
    case 5u: {
      let cdf = 0.5 * (1.0 + erf_approx(x * 0.70710678118654752));
      return cdf + x * 0.3989422804014327 * exp(-0.5 * x * x);
    }
    case 6u: { return y * (1.0 - y); }
    case 7u: { return 1.0 - y * y; }
    case 8u: { return sign(x); }
    case 9u: { return 2.0 * x; }
    case 10u: { return alpha; }
    case 11u: {
      // x^(α-1) = y / x away from 0; at 0 it is 0 (α > 1), 1 (α = 1) or Inf (α < 1).
      if (alpha == 0.0) { return 0.0; } // x^0 is constant
      if (x != 0.0) { return alpha * y / x; }
      if (alpha == 1.0) { return 1.0; }
      return select(bitcast<f32>(0x7f800000u), 0.0, alpha > 1.0);
    }
    case 12u: { return sigmoid_safe(-x); }
    default: { return sigmoid_safe(x); }
  }
}
fn binary_fn(op: u32, a: f32, b: f32) -> f32 {
  switch (op) {
    case 0u: { return a + b; }
    case 1u: { return a - b; }
    case 2u: { return a * b; }
    case 3u: { return a / b; }
    case 4u: { return pow_real(a, b); }
    case 5u: { return max(a, b); }
    case 6u: { return min(a, b); }
    case 7u: { return select(0.0, 1.0, a >= b); }
    case 8u: { return select(0.0, 1.0, a > b); }
    default: { return select(0.0, 1.0, a == b); }
  }
}
