//! AFL target: see `chains_fuzz::watch_event`.

fn main() {
    afl::fuzz!(|data: &[u8]| chains_fuzz::watch_event(data));
}
