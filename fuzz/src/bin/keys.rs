//! AFL target: see `chains_fuzz::keys`.

fn main() {
    afl::fuzz!(|data: &[u8]| chains_fuzz::keys(data));
}
