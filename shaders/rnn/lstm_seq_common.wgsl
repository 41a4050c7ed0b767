// Shared by the LSTM sequence kernels: one workgroup per sequence, each invocation owning hidden
// units j = lid, lid + WG_X, … (at most MAX_UNITS of them, so H ≤ WG_X · MAX_UNITS).
const MAX_H: u32 = 256u;
const MAX_UNITS: u32 = 4u;

// Sequence index of this workgroup (the runtime may fold a long launch into (x, y)).
fn seq_id(wid: vec3<u32>, nwg: vec3<u32>) -> u32 { return wid.x + wid.y * nwg.x; }

// Time index of processing step s: s forward, T − 1 − s for the reverse direction.
fn time_of(s: u32) -> u32 { return select(s, u.steps - 1u - s, u.rev != 0u); }
