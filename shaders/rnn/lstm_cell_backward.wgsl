// Gradient of lstm_cell: from gout[b] = [∂h | ∂c] (∂c: from the next step's c_prev and any use of
// c), recomputing the gates, to the pre-activation gradients ggates[b] (i, f, g, o) and gc_prev.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let idx = linear_id(wid, nwg, lid);
  if (idx >= u.batch * u.hidden) { return; }
  let H = u.hidden;
  let b = idx / H;
  let j = idx % H;
  let g0 = b * 4u * H + j;
  let i = lstm_sigmoid(gates[g0]);
  let f = lstm_sigmoid(gates[g0 + H]);
  let g = lstm_tanh(gates[g0 + 2u * H]);
  let o = lstm_sigmoid(gates[g0 + 3u * H]);
  let cp = c_prev[idx];
  let tc = lstm_tanh(f * cp + i * g);
  let gh = gout[b * 2u * H + j];
  let gc = gout[b * 2u * H + H + j] + gh * o * (1.0 - tc * tc);
  ggates[g0] = gc * g * i * (1.0 - i);
  ggates[g0 + H] = gc * cp * f * (1.0 - f);
  ggates[g0 + 2u * H] = gc * i * (1.0 - g * g);
  ggates[g0 + 3u * H] = gh * tc * o * (1.0 - o);
  gc_prev[idx] = gc * f;
}
