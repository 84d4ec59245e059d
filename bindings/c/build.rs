//! Gives the shared library its SONAME, `libsock.so.<LS_ABI_VERSION>`, so programs linked against
//! it keep working across compatible upgrades.

fn main() {
    // Keep in step with LS_ABI_VERSION in src/lib.rs (a test checks the two agree).
    const ABI: u32 = 0;
    let target = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target == "linux" || target == "android" || target.ends_with("bsd") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsock.so.{ABI}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
