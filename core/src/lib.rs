//! # libsock
//!
//! One socket library with a Rust core: TCP, UDP and Unix sockets with message framing that ends
//! "sticky packet" bugs, a timeout on every wait, every socket option readable back, and errors
//! that name the operation and the address. The same core is used from Python, C, C++, MATLAB,
//! Delphi/Free Pascal and Java through the doors in `bindings/`.
//!
//! This crate's blocking layer makes system calls on the caller's thread (no runtime, no helper
//! thread except for a host-name lookup with a timeout):
//!
//! - [`Connection`]: a TCP or Unix stream with `send_all`, `recv_exact`, `recv_until`,
//!   `send_msg`/`recv_msg` through a [`Framing`], half-close, `send_file`/`recv_file`.
//! - [`Listener`]: accepts connections, with a timeout.
//! - [`Proxy`]: connect through a SOCKS5 or HTTP `CONNECT` proxy
//!   ([`ConnectOptions::proxy`](ConnectOptions#structfield.proxy), and the engine client's
//!   `ClientConfig::proxy`).
//! - Unix stream extras: [`Connection::send_fds`] / [`Connection::recv_fds`] pass file
//!   descriptors (SCM_RIGHTS), [`Connection::peer_credentials`] reads SO_PEERCRED.
//! - [`Datagram`]: UDP and Unix datagrams: `send_to`/`recv_from` (truncation reported),
//!   broadcast, multicast, `send_many`/`recv_many` batches.
//!
//! ```
//! use libsock::{Connection, ConnectOptions, Framing, ListenOptions, Listener};
//! use std::time::Duration;
//!
//! let listener = Listener::bind_with(
//!     "127.0.0.1:0",
//!     &ListenOptions::new().framing(Framing::length_prefixed()),
//! )?;
//! let addr = listener.local_addr()?;
//! let server = std::thread::spawn(move || -> libsock::Result<()> {
//!     let (conn, _peer) = listener.accept(Some(Duration::from_secs(5)))?;
//!     while let Ok(msg) = conn.recv_msg() {
//!         conn.send_msg(&msg)?; // echo each message back, boundaries kept
//!     }
//!     Ok(())
//! });
//!
//! let opts = ConnectOptions::new()
//!     .connect_timeout(Duration::from_secs(5))
//!     .timeout(Some(Duration::from_secs(5)))
//!     .framing(Framing::length_prefixed());
//! let conn = Connection::connect_with(&addr, &opts)?;
//! conn.send_msg(b"hello")?;
//! conn.send_msg(b"world")?;
//! assert_eq!(&conn.recv_msg()?[..], b"hello");
//! assert_eq!(&conn.recv_msg()?[..], b"world");
//! conn.close();
//! server.join().unwrap()?;
//! # Ok::<(), libsock::Error>(())
//! ```
#![warn(missing_docs)]

mod addr;
mod conn;
mod datagram;
pub mod engine;
mod error;
pub mod framing;
mod holder;
pub mod kcp;
mod listener;
pub mod offload;
pub mod options;
mod proxy;
pub mod tls;
pub mod transfer;
mod wait;

pub use addr::{resolve_host, Addr, Endpoint, ToEndpoint, ToEndpointRef};
pub use conn::{ConnectOptions, Connection, ConnectionStats, Shutdown, Timed, TlsInfo};
#[cfg(unix)]
pub use conn::{PeerCredentials, MAX_FDS};
pub use datagram::{Datagram, DatagramOptions, MulticastInterface, RecvMeta, RecvSize};
pub use error::{Error, ErrorKind, Result};
pub use framing::{Decoder, Delimited, Framing, LengthPrefixed};
pub use holder::Timeout;
pub use listener::{ListenOptions, Listener};
pub use options::{Keepalive, SockOpt, SocketOptions};
pub use proxy::{Proxy, ProxyKind};
pub use wait::{
    with_interrupt_check, with_signal_interrupt_check, InterruptCheck, INTERRUPT_SLICE,
};

/// The crate version (`CARGO_PKG_VERSION`), also `ls_version()` in the C ABI.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub use bytes::Bytes;

#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
