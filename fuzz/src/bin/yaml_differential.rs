//! AFL target: see `chains_fuzz::yaml_differential`.

fn main() {
    afl::fuzz!(|data: &[u8]| chains_fuzz::yaml_differential(data));
}
