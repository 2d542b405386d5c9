# Sourced by the benchmarks that measure the binary users run (speed.sh, text-node.sh,
# junit-2m.sh): builds it as the image ships it (release, static x86_64 musl, C through
# musl-gcc) and sets `target` (the Cargo target directory) and `shipped` (the binary's path).
target=${CARGO_TARGET_DIR:-$PWD/target}
CC_x86_64_unknown_linux_musl=${CC_x86_64_unknown_linux_musl:-musl-gcc} \
  cargo build --release --locked --quiet --target x86_64-unknown-linux-musl --bin controlgate
shipped=$target/x86_64-unknown-linux-musl/release/controlgate
