//! Fuzz target `encode_roundtrip`. What the encoder accepts decodes back unchanged, and it accepts exactly what can (see
//! `libsock_fuzz::targets::encode_roundtrip`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| libsock_fuzz::targets::encode_roundtrip(data));
