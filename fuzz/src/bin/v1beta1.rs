//! AFL target: see `chains_fuzz::v1beta1`.

fn main() {
    afl::fuzz!(|data: &[u8]| chains_fuzz::v1beta1(data));
}
