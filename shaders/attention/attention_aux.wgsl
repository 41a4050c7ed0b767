// The packed aux buffer of the attention backward: key lengths (i32 bits, B), log-sum-exp and
// Δ (f32 bits, B·H·Lq each), written by attention_bwd_delta.wgsl.
fn aux_len(b: u32) -> i32 { return bitcast<i32>(aux[b]); }
fn aux_lse(r: u32) -> f32 { return bitcast<f32>(aux[u.bh / u.heads + r]); }
fn aux_delta(r: u32) -> f32 { return bitcast<f32>(aux[u.bh / u.heads + u.bh * u.lq + r]); }
