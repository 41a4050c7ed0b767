// Flat index of element e (of outer·inner) of channel c in a [outer, c, inner] tensor.
fn at(c: u32, e: u32) -> u32 {
  return ((e / u.inner) * u.c + c) * u.inner + e % u.inner;
}
