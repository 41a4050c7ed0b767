// Chunked attention backward (software adapters), step 2: score gradients, in place.
// `dp` holds dO_i·v_t for the query rows c0..c0+rows−1 as [B·H, rows, Lk], `p` the
// probabilities from attention_bwd_probs.wgsl; this writes scale · ds_it to `dp`, with
// ds = p (dp̃ − Δ_i) and dp̃ = dp with the dropout mask and 1/(1 − rate); with write_ds it
// also stores the unscaled ds of the main keys to `ds_out` [B·H, Lq, Lk − npre] (the bias
// gradient). Masked scores have p = 0, so ds = 0 there. One invocation per score.

// lowbias32 (Chris Wellons), as hash4 in the fused kernels.

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = linear_id(wid, nwg, lid);
  if (e >= u.bh * u.rows * u.lk) { return; }
  let t = e % u.lk;
  let bh = e / (u.rows * u.lk);
  let i = u.c0 + (e / u.lk) % u.rows;
  let r = bh * u.lq + i;

  var d = dp[e];
  if (dropout_on()) {
    let keep = hash(hash(u.seed ^ hash(r)) ^ t) >= u.keep_thresh;
    d = select(0.0, d * u.drop_scale, keep);
  }
  let ds = p[e] * (d - aux_delta(r));
  if (write_ds() && t >= u.npre) { ds_out[r * (u.lk - u.npre) + t - u.npre] = ds; }
  dp[e] = ds * u.scale;
}
