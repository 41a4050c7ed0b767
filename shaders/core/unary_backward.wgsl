// gx = gy * f'(x), with y = f(x) at hand for the ops whose derivative is cheaper from y.
// erf_approx and sigmoid_safe: shaders/common/numerics.wgsl.
fn df(x: f32, y: f32) -> f32 {
  switch (OP) {
    case 0: { return -1.0; }
    case 1: { return y; }
    case 2: { return 1.0 / x; }
    case 3: { return 0.5 / y; }
    case 4: { return select(0.0, 1.0, x > 0.0); }
    case 5: {
      let cdf = 0.5 * (1.0 + erf_approx(x * 0.70710678118654752));
      return cdf + x * 0.3989422804014327 * exp(-0.5 * x * x);
    }
    case 6: { return y * (1.0 - y); }
    case 7: { return 1.0 - y * y; }
    case 8: { return sign(x); }
    case 9: { return 2.0 * x; }
    case 10: { return u.alpha; }
    case 11: {
      // x^(α-1) = y / x away from 0; at 0 it is 0 (α > 1), 1 (α = 1) or Inf (α < 1).
      if (u.alpha == 0.0) { return 0.0; } // x^0 is constant
      if (x != 0.0) { return u.alpha * y / x; }
      if (u.alpha == 1.0) { return 1.0; }
      return select(bitcast<f32>(0x7f800000u), 0.0, u.alpha > 1.0);
    }
    case 12: { return sigmoid_safe(-x); }
    default: { return sigmoid_safe(x); }
  }
}
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i < u.n) { gx[i] = gy[i] * df(x[i], y[i]); }
}
