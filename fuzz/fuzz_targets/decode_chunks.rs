//! Fuzz target `decode_chunks`. Any framing, any bytes, cut anywhere: chunked decoding equals whole decoding equals the
//! specification, within the limits (see `libsock_fuzz::targets::decode_chunks`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| libsock_fuzz::targets::decode_chunks(data));
