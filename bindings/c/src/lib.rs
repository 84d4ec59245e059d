//! The C ABI of libsock (filled in by the C-door issue).
