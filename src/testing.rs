//! Helpers for unit tests.

/// A seeded xorshift64 generator: the random texts of the tests that
/// check a fast path against the general code it stands in for, the same
/// on every run and every machine.
pub struct Rng(u64);

impl Rng {
    /// `seed` must not be 0.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// One of `xs`, at random.
    pub fn pick<'a, T: ?Sized>(&mut self, xs: &[&'a T]) -> &'a T {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}
