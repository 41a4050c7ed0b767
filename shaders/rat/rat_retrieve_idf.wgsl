// RAT retrieval, IDF step 2: w[i, f] = log(N / count_f(q[i, f])) for the used fields, 0 for
// unused fields and for values no DB row holds (they can never match). Values outside
// [0, vocab_f) get weight 0 and are recorded in the index-guard slot.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = linear_id(wid, nwg, lid);
  if (t >= u.n * u.f) { return; }
  let f = t % u.f;
  let v = ids[t];
  if (v < 0 || v >= off[f + 1u] - off[f]) { flag_bad(t, v); w[t] = 0.0; return; }
  let c = cnt[off[f] + v];
  w[t] = select(0.0, log(f32(u.total) / f32(c)), c > 0 && used[f] != 0);
}
