// Activations shared by the GRU kernels (the sequence layout is in seq.wgsl).
fn sigmoid_f(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }

// tanh through exp(-2|x|): never overflows.
fn tanh_f(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}
