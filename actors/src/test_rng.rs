//! A seeded xorshift generator for tests that replay a random mix of steps:
//! the same seed gives the same steps on every run.

/// The next number on each call, from `seed` (non-zero).
pub fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
