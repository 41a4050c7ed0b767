// Numerically careful scalar helpers shared by the elementwise and loss kernels.

// erf by Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7); WGSL has no erf.
fn erf_approx(x: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.3275911 * abs(x));
  let p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - p * exp(-x * x));
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
// σ(x) through exp(−|x|): never overflows.
fn sigmoid_safe(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}
