// Shared by the LSTM sequence kernels (the sequence layout is in seq.wgsl).

// Time index of processing step s: s forward, T − 1 − s for the reverse direction.
fn time_of(s: u32) -> u32 { return select(s, u.steps - 1u - s, u.rev != 0u); }
