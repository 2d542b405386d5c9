//! Build script of the `controlgate` package: link settings the binary's code cannot state.

fn main() {
    println!("cargo:rerun-if-changed=src/build.rs");
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let target_arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    // The static musl binary routes every `memcpy`, `memcmp` and `bcmp` call to its own
    // (src/memcpy.rs and src/memcmp.rs say why).
    if target_env == "musl" && target_arch == "x86_64" {
        println!("cargo:rustc-link-arg-bin=controlgate=-Wl,--wrap=memcpy");
        println!("cargo:rustc-link-arg-bin=controlgate=-Wl,--wrap=memcmp");
        println!("cargo:rustc-link-arg-bin=controlgate=-Wl,--wrap=bcmp");
    }
}
