// Mel filterbank and log: y[r, m] = Σ_k spec[r, k]·fb[k, m] over the F spectrum bins, then
// mode 0: as is; 1: ln(max(y, floor)) (Kaldi fbank); 2: 10·log10(max(y, floor)) (decibels).
// One invocation per output (r, m); row r = (b, t) of a chunk of `chunk` frames per signal
// lands at frame t0 + t of `frames` in y.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let idx = linear_id(wid, nwg, lid);
  if (idx >= u.rows * u.mels) { return; }
  let r = idx / u.mels;
  let m = idx % u.mels;
  var acc = 0.0;
  for (var k = 0u; k < u.bins; k++) { acc += spec[r * u.bins + k] * fb[k * u.mels + m]; }
  if (u.mode == 1u) { acc = log(max(acc, u.floor)); }
  if (u.mode == 2u) { acc = 10.0 * log(max(acc, u.floor)) / log(10.0); }
  let out_row = (r / u.chunk) * u.frames + u.t0 + r % u.chunk;
  y[out_row * u.mels + m] = acc;
}
