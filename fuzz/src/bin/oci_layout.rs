//! AFL target: see `chains_fuzz::oci_layout`.

fn main() {
    afl::fuzz!(|data: &[u8]| chains_fuzz::oci_layout(data));
}
