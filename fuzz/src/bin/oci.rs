//! AFL target: see `chains_fuzz::oci`.

fn main() {
    afl::fuzz!(|data: &[u8]| chains_fuzz::oci(data));
}
