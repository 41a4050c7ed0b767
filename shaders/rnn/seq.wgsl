// Shared by the GRU and LSTM sequence kernels: the recurrence runs one workgroup per sequence,
// its hidden state in workgroup memory, each invocation owning hidden units j = lid, lid + WG_X,
// … (at most MAX_UNITS of them, so H ≤ WG_X · MAX_UNITS).
const MAX_H: u32 = 256u;
const MAX_UNITS: u32 = 4u;

// Sequence index of this workgroup (the runtime may fold a long launch into (x, y)).
fn seq_id(wid: vec3<u32>, nwg: vec3<u32>) -> u32 { return wid.x + wid.y * nwg.x; }
