//! AFL target: see `chains_fuzz::rekor`.

fn main() {
    afl::fuzz!(|data: &[u8]| chains_fuzz::rekor(data));
}
