// RAT retrieval, IDF step 1: cnt[off[f] + v] = number of DB rows whose field f holds v.
// Values outside [0, vocab_f) are not counted and are recorded in the index-guard slot.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = linear_id(wid, nwg, lid);
  if (t >= u.n * u.f) { return; }
  let f = t % u.f;
  let v = ids[t];
  if (v < 0 || v >= off[f + 1u] - off[f]) { flag_bad(t, v); return; }
  atomicAdd(&cnt[off[f] + v], 1);
}
