// Shared by the GRU kernels: the recurrence runs one workgroup per sequence, its hidden state
// in workgroup memory, each invocation owning hidden units j = lid, lid + WG_X, … (at most
// MAX_UNITS of them, so H ≤ WG_X · MAX_UNITS).
const MAX_H: u32 = 256u;
const MAX_UNITS: u32 = 4u;

fn sigmoid_f(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }

// tanh through exp(-2|x|): never overflows.
fn tanh_f(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}

// Sequence index of this workgroup (the runtime may fold a long launch into (x, y)).
fn seq_id(wid: vec3<u32>, nwg: vec3<u32>) -> u32 { return wid.x + wid.y * nwg.x; }
