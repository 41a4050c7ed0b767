// Cuts signals [B, L] into frames [B, T, N] (N = FFT size, zero past FRAME_LEN) and windows them.
// Frame t starts at sample t·hop − pad_left; samples before 0 or past L reflect (torch's
// center=True padding, reflect without repeating the edge). Kaldi settings: remove_dc subtracts
// the frame mean, then pre-emphasis y[j] = x[j] − c·x[j−1] (y[0] = x[0] − c·x[0]).
// One invocation per frame: the mean needs the whole frame. A launch covers frames
// t0 .. t0 + per_signal − 1 of each signal (long clips run in chunks of frames), written as
// y[b, t − t0, :].
fn frame_sample(b: u32, s: i32) -> f32 {
  let L = i32(u.len);
  var i = s;
  if (i < 0) { i = -i; }
  if (i >= L) { i = 2 * (L - 1) - i; }
  return x[b * u.len + u32(i)];
}

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let f = linear_id(wid, nwg, lid);
  if (f >= u.frames) { return; }
  let b = f / u.per_signal;
  let t = u.t0 + f % u.per_signal;
  let start = i32(t * u.hop) - i32(u.pad_left);
  var mean = 0.0;
  if (u.remove_dc != 0u) {
    for (var j = 0u; j < u.frame_len; j++) { mean += frame_sample(b, start + i32(j)); }
    mean = mean / f32(u.frame_len);
  }
  let o = f * u.n_fft;
  var prev = frame_sample(b, start) - mean;
  for (var j = 0u; j < u.frame_len; j++) {
    let v = frame_sample(b, start + i32(j)) - mean;
    y[o + j] = (v - u.preemph * prev) * win[j];
    prev = v;
  }
  for (var j = u.frame_len; j < u.n_fft; j++) { y[o + j] = 0.0; }
}
