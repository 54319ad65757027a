//! AFL target: see `chains_fuzz::run_documents`.

fn main() {
    afl::fuzz!(|data: &[u8]| chains_fuzz::run_documents(data));
}
