//! AFL target: see `chains_fuzz::config`.

fn main() {
    afl::fuzz!(|data: &[u8]| chains_fuzz::config(data));
}
