// Helpers shared by the InfoNCE kernels infonce_fwd and infonce_bwd: vec4 loads of key and
// anchor rows.

// Four dims of a key, zero past the row end (a whole 16-dim chunk is read at once).
fn k4(j: u32, c: u32) -> vec4<f32> {
  let b = j * u.d;
  if (D16) { return vec4(k[b + c], k[b + c + 1u], k[b + c + 2u], k[b + c + 3u]); }
  let e = u.d - 1u;
  return vec4(
    select(0.0, k[b + min(c, e)], c < u.d),
    select(0.0, k[b + min(c + 1u, e)], c + 1u < u.d),
    select(0.0, k[b + min(c + 2u, e)], c + 2u < u.d),
    select(0.0, k[b + min(c + 3u, e)], c + 3u < u.d),
  );
}

fn x4(r: u32, c: u32) -> vec4<f32> {
  let b = r * u.d;
  if (D16) { return vec4(x[b + c], x[b + c + 1u], x[b + c + 2u], x[b + c + 3u]); }
  let e = u.d - 1u;
  return vec4(
    select(0.0, x[b + min(c, e)], c < u.d),
    select(0.0, x[b + min(c + 1u, e)], c + 1u < u.d),
    select(0.0, x[b + min(c + 2u, e)], c + 2u < u.d),
    select(0.0, x[b + min(c + 3u, e)], c + 3u < u.d),
  );
}
