//! AFL target: see `chains_fuzz::bundle`.

fn main() {
    afl::fuzz!(|data: &[u8]| chains_fuzz::bundle(data));
}
