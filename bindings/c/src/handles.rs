//! The objects behind the C door's handles ([`Obj`]: connections, listeners, datagram sockets,
//! options, engine objects and configs, TLS configs, file transfers), the registry they live in (the flat doors'
//! [`Registry`], shared with the JNI glue), and the typed lookups every `ls_*` function starts
//! with. Below every object module (engine, TLS, ...), above [`crate::boundary`]: nothing here
//! imports a module that imports it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use libsock::engine::{Client, DatagramServer, EngineSettings, Server};
use libsock::kcp::{KcpServer, KcpSession, KcpSettings};
use libsock::tls::{ClientTls, ServerTls, TlsClient, TlsServer};
use libsock::transfer::FileTransfer;
use libsock::{Connection, Datagram, Error, Listener, Proxy, SocketOptions};
use libsock_flat::registry::Registry;

use crate::boundary::{self, bad_arg};

/// Socket options recorded by an options handle for a later `ls_*_ex` call.
#[derive(Default)]
pub(crate) struct OptionsEntry {
    /// The options as core applies them.
    pub(crate) opts: SocketOptions,
    /// The values as they were set, by option number (for `ls_get_option`).
    pub(crate) values: HashMap<i32, i64>,
    /// The TLS config attached by `ls_options_set_tls` (its object, so that later setters on
    /// it still apply and freeing its handle does not take it away).
    pub(crate) tls: Option<Arc<Obj>>,
    /// The proxy set by `ls_options_set_proxy` (`ls_tcp_connect_ex` connects through it).
    pub(crate) proxy: Option<Proxy>,
}

/// An engine object behind a handle, with a flag set by `ls_close` so that a call blocked on it
/// in another thread returns `LS_ERR_CLOSED` rather than the object's final event.
pub(crate) struct Engine<T> {
    pub(crate) obj: T,
    pub(crate) closed: AtomicBool,
}

impl<T> Engine<T> {
    /// Wrap a freshly made engine object.
    pub(crate) fn new(obj: T) -> Engine<T> {
        Engine {
            obj,
            closed: AtomicBool::new(false),
        }
    }

    /// True once `ls_close` closed the handle.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

/// Everything a handle can name.
// Each object lives in its own `Arc` in the registry, so the enum's size is one allocation
// per handle; boxing the large variants would add a pointer chase to every call instead.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Obj {
    Conn(Connection),
    Listener(Listener),
    Dgram(Datagram),
    Options(Mutex<OptionsEntry>),
    Server(Engine<Server>),
    Client(Engine<Client>),
    DgramServer(Engine<DatagramServer>),
    EngineConfig(Mutex<EngineSettings>),
    Tls(Mutex<TlsEntry>),
    Transfer(FileTransfer),
    KcpServer(Engine<KcpServer>),
    KcpSession(KcpEntry),
    KcpConfig(Mutex<KcpSettings>),
}

/// A KCP session behind a handle, with the message `ls_kcp_recv` took but could not hand over
/// (the caller's buffer was too small: it stays for the next call) and the default timeout
/// (`ls_set_timeout`; `None` = forever).
pub(crate) struct KcpEntry {
    pub(crate) session: KcpSession,
    pub(crate) held: Mutex<Option<libsock::Bytes>>,
    pub(crate) timeout: Mutex<Option<Duration>>,
}

impl Obj {
    fn kind(&self) -> &'static str {
        match self {
            Obj::Conn(_) => "connection",
            Obj::Listener(_) => "listener",
            Obj::Dgram(_) => "datagram socket",
            Obj::Options(_) => "options",
            Obj::Server(_) => "server",
            Obj::Client(_) => "client",
            Obj::DgramServer(_) => "datagram server",
            Obj::EngineConfig(_) => "engine config",
            Obj::Tls(_) => "TLS config",
            Obj::Transfer(_) => "file transfer",
            Obj::KcpServer(_) => "KCP server",
            Obj::KcpSession(_) => "KCP session",
            Obj::KcpConfig(_) => "KCP config",
        }
    }

    /// Close the socket inside (wakes threads blocked on it). Engine objects stop at once (their
    /// waiters wake and return `Closed`). Options and configs have nothing to close.
    fn close(&self) {
        match self {
            Obj::Conn(c) => c.close(),
            Obj::Listener(l) => l.close(),
            Obj::Dgram(d) => d.close(),
            Obj::Server(e) => {
                e.closed.store(true, Ordering::Release);
                e.obj.shutdown(Duration::ZERO);
            }
            Obj::Client(e) => {
                e.closed.store(true, Ordering::Release);
                e.obj.close(Duration::ZERO);
            }
            Obj::DgramServer(e) => {
                e.closed.store(true, Ordering::Release);
                e.obj.shutdown();
            }
            // A transfer running in another thread stops at its next step (`Interrupted`).
            Obj::Transfer(t) => t.cancel(),
            Obj::KcpServer(e) => {
                e.closed.store(true, Ordering::Release);
                e.obj.shutdown();
            }
            Obj::KcpSession(k) => k.session.close(),
            Obj::Options(_) | Obj::EngineConfig(_) | Obj::Tls(_) | Obj::KcpConfig(_) => {}
        }
    }
}

/// Every object behind a C handle: the flat doors' registry, shared with the JNI glue (handles
/// from 1, never reused, at most 2^53 - 1 so that MATLAB's doubles hold each exactly; a lookup
/// lets go of the lock before the call blocks; the storage goes back when the last handle
/// does, so valgrind finds nothing of ours at exit; [`libsock_flat::registry`]).
static HANDLES: Registry<Obj> = Registry::new();

/// Put `obj` in the registry; returns its new handle (never reused). Past the last handle the
/// object is closed (not only dropped) and the error is `Internal`.
pub(crate) fn insert(obj: Obj) -> Result<i64, Error> {
    if HANDLES.exhausted() {
        obj.close();
        return Err(Error::Internal("handle numbers are exhausted".into()));
    }
    HANDLES.insert(obj)
}

/// The object behind `h`, or `BadHandle`.
pub(crate) fn get(h: i64) -> Result<Arc<Obj>, Error> {
    HANDLES.get(h).ok_or(Error::BadHandle(h))
}

/// Remove `h` from the registry and close what it names. Calls still running on it (in other
/// threads) hold their own reference and return `Closed`; the memory goes with the last of them.
pub(crate) fn remove(h: i64) -> Result<(), Error> {
    let obj = HANDLES.remove(h).ok_or(Error::BadHandle(h))?;
    obj.close();
    Ok(())
}

/// A handle of another kind than the function takes: `BadHandle`, with a message saying which.
pub(crate) fn wrong_kind(h: i64, obj: &Obj, wanted: &str) -> Error {
    boundary::wrong_kind(h, obj.kind(), wanted)
}

/// For `ls_engine_stats`: the KCP counter `stat` (an `LS_KCP_STAT_*` number) of the KCP server
/// or session behind `h`; `Ok(None)` when `stat` is no such number (an `LS_STAT_*` one, say).
pub(crate) fn kcp_stat(h: i64, stat: i32) -> Result<Option<u64>, Error> {
    let Some(key) = libsock::kcp::KcpStat::from_code(stat) else {
        return Ok(None);
    };
    let o = get(h)?;
    let v = match &*o {
        Obj::KcpServer(e) => e.obj.stats().get_kcp(key),
        Obj::KcpSession(k) => k.session.stats().get_kcp(key),
        Obj::Server(_) | Obj::Client(_) | Obj::DgramServer(_) => None,
        other => {
            return Err(wrong_kind(
                h,
                other,
                "server, client, datagram server, KCP server or KCP session",
            ))
        }
    };
    v.map(Some).ok_or_else(|| {
        Error::Unsupported(format!(
            "statistic {stat} (LS_KCP_STAT_{}) is not kept by a {}",
            key.name(),
            o.kind()
        ))
    })
}

/// The connection behind `h`.
pub(crate) fn conn(h: i64) -> Result<Arc<Obj>, Error> {
    let o = get(h)?;
    match &*o {
        Obj::Conn(_) => Ok(o),
        other => Err(wrong_kind(h, other, "connection")),
    }
}

/// Borrow the connection out of an [`Obj`] known to be one.
pub(crate) fn as_conn(o: &Obj) -> &Connection {
    match o {
        Obj::Conn(c) => c,
        _ => unreachable!("checked by conn()"),
    }
}

/// The listener behind `h`.
pub(crate) fn listener(h: i64) -> Result<Arc<Obj>, Error> {
    let o = get(h)?;
    match &*o {
        Obj::Listener(_) => Ok(o),
        other => Err(wrong_kind(h, other, "listener")),
    }
}

/// Borrow the listener out of an [`Obj`] known to be one.
pub(crate) fn as_listener(o: &Obj) -> &Listener {
    match o {
        Obj::Listener(l) => l,
        _ => unreachable!("checked by listener()"),
    }
}

/// The datagram socket behind `h`.
pub(crate) fn dgram(h: i64) -> Result<Arc<Obj>, Error> {
    let o = get(h)?;
    match &*o {
        Obj::Dgram(_) => Ok(o),
        other => Err(wrong_kind(h, other, "datagram socket")),
    }
}

/// Borrow the datagram socket out of an [`Obj`] known to be one.
pub(crate) fn as_dgram(o: &Obj) -> &Datagram {
    match o {
        Obj::Dgram(d) => d,
        _ => unreachable!("checked by dgram()"),
    }
}

/// The options object behind `h`.
pub(crate) fn options(h: i64) -> Result<Arc<Obj>, Error> {
    let o = get(h)?;
    match &*o {
        Obj::Options(_) => Ok(o),
        other => Err(wrong_kind(h, other, "options object")),
    }
}

/// A copy of the socket options recorded by options handle `h` (0 = none: defaults).
pub(crate) fn options_value(h: i64) -> Result<SocketOptions, Error> {
    if h == 0 {
        return Ok(SocketOptions::default());
    }
    let o = options(h)?;
    match &*o {
        Obj::Options(m) => Ok(m.lock().unwrap_or_else(|p| p.into_inner()).opts.clone()),
        _ => unreachable!("checked by options()"),
    }
}

/// The TLS config attached to options handle `h` by `ls_options_set_tls` (0 = none).
pub(crate) fn options_tls(h: i64) -> Result<Option<Arc<Obj>>, Error> {
    if h == 0 {
        return Ok(None);
    }
    let o = options(h)?;
    match &*o {
        Obj::Options(m) => Ok(m.lock().unwrap_or_else(|p| p.into_inner()).tls.clone()),
        _ => unreachable!("checked by options()"),
    }
}

/// The proxy set on options handle `h` by `ls_options_set_proxy` (0 = none).
pub(crate) fn options_proxy(h: i64) -> Result<Option<Proxy>, Error> {
    if h == 0 {
        return Ok(None);
    }
    let o = options(h)?;
    match &*o {
        Obj::Options(m) => Ok(m.lock().unwrap_or_else(|p| p.into_inner()).proxy.clone()),
        _ => unreachable!("checked by options()"),
    }
}

/// The file transfer behind `h`.
pub(crate) fn transfer(h: i64) -> Result<Arc<Obj>, Error> {
    let o = get(h)?;
    match &*o {
        Obj::Transfer(_) => Ok(o),
        other => Err(wrong_kind(h, other, "file transfer")),
    }
}

/// Borrow the file transfer out of an [`Obj`] known to be one.
pub(crate) fn as_transfer(o: &Obj) -> &FileTransfer {
    match o {
        Obj::Transfer(t) => t,
        _ => unreachable!("checked by transfer()"),
    }
}

/// The TLS config behind `h`.
pub(crate) fn tls_config(h: i64) -> Result<Arc<Obj>, Error> {
    let o = get(h)?;
    match &*o {
        Obj::Tls(_) => Ok(o),
        other => Err(wrong_kind(h, other, "TLS config")),
    }
}

/// The settings behind a TLS config handle: one side's builder, and what was last built from it.
pub(crate) struct TlsEntry {
    /// The builder of the side the config was made for.
    pub(crate) side: Side,
    /// The ALPN protocols, in order of preference.
    pub(crate) alpn: Vec<Vec<u8>>,
    /// What was last built from the settings (`None` after any change).
    pub(crate) built: Option<Built>,
}

/// The side a TLS config was made for, with its builder.
pub(crate) enum Side {
    Client(TlsClient),
    Server(TlsServer),
}

/// Settings built from a [`Side`] (shared by every connection made with them).
#[derive(Clone)]
pub(crate) enum Built {
    Client(ClientTls),
    Server(ServerTls),
}

impl TlsEntry {
    /// The client builder, for a change by `setter` (a server config refuses it).
    pub(crate) fn client(&mut self, setter: &str) -> Result<&mut TlsClient, Error> {
        self.built = None;
        match &mut self.side {
            Side::Client(c) => Ok(c),
            Side::Server(_) => Err(bad_arg(format!(
                "{setter} is a client setting: this is a server TLS config \
                 (ls_tls_server_config_new)"
            ))),
        }
    }

    /// The server builder, for a change by `setter` (a client config refuses it).
    pub(crate) fn server(&mut self, setter: &str) -> Result<&mut TlsServer, Error> {
        self.built = None;
        match &mut self.side {
            Side::Server(s) => Ok(s),
            Side::Client(_) => Err(bad_arg(format!(
                "{setter} is a server setting: this is a client TLS config \
                 (ls_tls_client_config_new)"
            ))),
        }
    }

    /// True for a server config.
    pub(crate) fn is_server(&self) -> bool {
        matches!(self.side, Side::Server(_))
    }

    /// The built client settings (built once per change).
    pub(crate) fn client_tls(&mut self) -> Result<ClientTls, Error> {
        if let Some(Built::Client(c)) = &self.built {
            return Ok(c.clone());
        }
        let Side::Client(c) = &self.side else {
            return Err(bad_arg(
                "a server TLS config cannot make a client connection: use a client TLS config \
                 (ls_tls_client_config_new)",
            ));
        };
        let built = c.clone().alpn(&self.alpn).build()?;
        self.built = Some(Built::Client(built.clone()));
        Ok(built)
    }

    /// The built server settings (built once per change).
    pub(crate) fn server_tls(&mut self) -> Result<ServerTls, Error> {
        if let Some(Built::Server(s)) = &self.built {
            return Ok(s.clone());
        }
        let Side::Server(s) = &self.side else {
            return Err(bad_arg(
                "a client TLS config cannot serve: use a server TLS config \
                 (ls_tls_server_config_new)",
            ));
        };
        let built = s.clone().alpn(&self.alpn).build()?;
        self.built = Some(Built::Server(built.clone()));
        Ok(built)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libsock_flat::registry::MAX_HANDLE;

    #[test]
    fn handles_are_positive_increasing_and_bad_after_remove() {
        let a = insert(Obj::Options(Mutex::default())).unwrap();
        let b = insert(Obj::Options(Mutex::default())).unwrap();
        assert!(a > 0 && b > a && b <= MAX_HANDLE);
        remove(a).unwrap();
        assert!(matches!(get(a), Err(Error::BadHandle(_))));
        assert!(matches!(remove(a), Err(Error::BadHandle(_))));
        remove(b).unwrap();
    }
}
