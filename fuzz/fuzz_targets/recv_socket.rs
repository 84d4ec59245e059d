//! Fuzz target `recv_socket`. The blocking receive path over a Unix socket pair gives the pure decoder's messages, within
//! a heap budget (see `libsock_fuzz::targets::recv_socket`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| libsock_fuzz::targets::recv_socket(data));
