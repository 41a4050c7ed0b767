// y = f(x) elementwise; OP selects f at pipeline-build time (see src/ops/elementwise.ts).
fn erf_approx(x: f32) -> f32 {
  // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7); WGSL has no erf.
  let t = 1.0 / (1.0 + 0.3275911 * abs(x));
  let p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - p * exp(-x * x));
}
// tanh through exp(-2|x|): never overflows, unlike (e^2x - 1) / (e^2x + 1).
fn tanh_safe(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}
// log(1 + e) for e in [0, 1], accurate in f32 where log(1.0 + e) is not: 1.0 + e rounds e
// away below 2^-24 (softplus(-20) would read 0, not e^-20). A series below 0.1 (truncation
// error < e^8/8), the plain form above (its rounding error is then < 1e-6 relative).
fn log1p_unit(e: f32) -> f32 {
  if (e < 0.1) {
    return e * (1.0 - e * (0.5 - e * (0.33333334 - e * (0.25 - e * (0.2 - e * (0.16666667 - e * 0.14285715))))));
  }
  return log(1.0 + e);
}
fn sigmoid_safe(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
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
