//! JNI glue for io.libsock (filled in by the C-door issue).
