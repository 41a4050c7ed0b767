// Δ_i = dO_i · O_i for every query row (one invocation per row), packed with the key lengths
// and the saved log-sum-exp into one u32 buffer for the backward kernels
// (attention_bwd_dq.wgsl, attention_bwd_dkv.wgsl), which keeps each of them within 8 storage
// bindings (WebGPU's default limit): aux = [lens (i32 bits, B) | lse (f32 bits, B·H·Lq) |
// Δ (f32 bits, B·H·Lq)].

// Options, bits of u.flags (workgroup-uniform branches; kept out of the pipeline key so that
// few pipelines need compiling).
// Offset of row i (of a sequence of length len) of head h in batch b, for row width w.

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = linear_id(wid, nwg, lid);
  let nb = u.bh / u.heads;
  if (r < nb) {
    var len = 0;
    if (has_lens()) { len = lens[r]; }
    aux[r] = bitcast<u32>(len);
  }
  if (r >= u.bh * u.lq) { return; }
  let bh = r / u.lq;
  let o = row_off(bh / u.heads, bh % u.heads, r % u.lq, u.lq, D_V);
  var a = 0.0;
  for (var d = 0u; d < D_V; d++) { a += go[o + d] * y[o + d]; }
  aux[nb + r] = lse[r]; // (bound as u32: the bits are copied)
  aux[nb + u.bh * u.lq + r] = bitcast<u32>(a);
}
