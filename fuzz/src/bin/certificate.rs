//! AFL target: see `chains_fuzz::certificate`.

fn main() {
    afl::fuzz!(|data: &[u8]| chains_fuzz::certificate(data));
}
