//! AFL target: see `chains_fuzz::verify_documents`.

fn main() {
    afl::fuzz!(|data: &[u8]| chains_fuzz::verify_documents(data));
}
