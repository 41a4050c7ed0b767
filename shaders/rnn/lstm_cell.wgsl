// One LSTM step after the gate pre-activations gates[b] = x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh
// (PyTorch's gate order i, f, g, o): c = σ(f)·c_prev + σ(i)·tanh(g), h = σ(o)·tanh(c).
// Writes out[b] = [h | c] (one output, so the step is one recorded op). One invocation per (b, j).
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
  let c = f * c_prev[idx] + i * g;
  out[b * 2u * H + j] = o * lstm_tanh(c);
  out[b * 2u * H + H + j] = c;
}
