//! [`Listener`]: accepts TCP or Unix stream connections.

use std::path::PathBuf;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use crate::addr::{Addr, Endpoint, ToEndpoint};
use crate::conn::Connection;
use crate::error::{Error, ErrorKind, Result};
use crate::framing::Framing;
use crate::holder::{Holder, Timeout};
use crate::options::{self, SockOpt, SocketOptions};
use crate::wait::{ready_now, Deadline, Ready};

/// How to listen. Built with chained setters and used by [`Listener::bind_with`].
#[derive(Debug, Clone)]
pub struct ListenOptions {
    /// Length of the queue of connections not yet accepted (default 1024; the OS may cap it).
    pub backlog: i32,
    /// SO_REUSEADDR (default on, so a restarted server can bind at once).
    pub reuse_address: bool,
    /// SO_REUSEPORT (default off): several listeners share one port.
    pub reuse_port: bool,
    /// For `[::]`: accept IPv4 clients too (default on; v4 peers appear as v4 addresses).
    pub dualstack: bool,
    /// For Unix paths: remove a stale socket file (one nobody listens on) before binding.
    pub remove_stale: bool,
    /// Framing given to accepted connections.
    pub framing: Framing,
    /// Default timeout given to accepted connections.
    pub conn_timeout: Option<Duration>,
    /// Socket options for the listening socket (accepted TCP sockets inherit most of them).
    pub options: SocketOptions,
    /// TLS: every accepted connection completes its handshake (within the settings'
    /// handshake timeout) before `accept` returns it.
    pub tls: Option<crate::tls::ServerTls>,
}

impl Default for ListenOptions {
    fn default() -> ListenOptions {
        ListenOptions {
            backlog: 1024,
            reuse_address: true,
            reuse_port: false,
            dualstack: true,
            remove_stale: false,
            framing: Framing::Raw,
            conn_timeout: None,
            tls: None,
            options: SocketOptions::default(),
        }
    }
}

impl ListenOptions {
    /// Defaults (see the fields).
    pub fn new() -> ListenOptions {
        ListenOptions::default()
    }
    /// Set the backlog.
    pub fn backlog(mut self, n: i32) -> Self {
        self.backlog = n;
        self
    }
    /// Set SO_REUSEADDR.
    pub fn reuse_address(mut self, on: bool) -> Self {
        self.reuse_address = on;
        self
    }
    /// Set SO_REUSEPORT.
    pub fn reuse_port(mut self, on: bool) -> Self {
        self.reuse_port = on;
        self
    }
    /// Accept IPv4 clients on an IPv6 wildcard listener.
    pub fn dualstack(mut self, on: bool) -> Self {
        self.dualstack = on;
        self
    }
    /// Remove a stale Unix socket file before binding.
    pub fn remove_stale(mut self, on: bool) -> Self {
        self.remove_stale = on;
        self
    }
    /// Framing for accepted connections.
    pub fn framing(mut self, f: Framing) -> Self {
        self.framing = f;
        self
    }
    /// Default timeout for accepted connections.
    pub fn conn_timeout(mut self, t: Option<Duration>) -> Self {
        self.conn_timeout = t;
        self
    }
    /// Socket options for the listening socket.
    pub fn options(mut self, o: SocketOptions) -> Self {
        self.options = o;
        self
    }
    /// Speak TLS with these settings (see [`crate::tls::TlsServer`]).
    pub fn tls(mut self, tls: crate::tls::ServerTls) -> Self {
        self.tls = Some(tls);
        self
    }
}

/// A listening TCP or Unix stream socket.
///
/// ```
/// use libsock::Listener;
/// use std::time::Duration;
/// let l = Listener::bind("127.0.0.1:0").unwrap();
/// assert_ne!(l.local_addr().unwrap().port(), 0);
/// let e = l.accept(Some(Duration::from_millis(10))).unwrap_err();
/// assert_eq!(e.kind(), libsock::ErrorKind::Timeout);
/// ```
pub struct Listener {
    h: Holder,
    local: Addr,
    /// Framing and default timeout given to accepted connections.
    accepted: std::sync::Mutex<(Framing, Option<Duration>)>,
    /// The Unix socket file this listener created (removed when it closes).
    unix_path: Option<PathBuf>,
    /// TLS settings for accepted connections.
    tls: Option<crate::tls::ServerTls>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("local", &self.local)
            .field("closed", &self.h.is_closed())
            .finish()
    }
}

impl Listener {
    /// Listen on `endpoint` with default options (`"127.0.0.1:0"` picks a free port).
    pub fn bind(endpoint: impl ToEndpoint) -> Result<Listener> {
        Listener::bind_with(endpoint, &ListenOptions::default())
    }

    /// Listen with options.
    pub fn bind_with(endpoint: impl ToEndpoint, opts: &ListenOptions) -> Result<Listener> {
        let ep = endpoint.to_endpoint()?;
        opts.framing.validate()?;
        if opts.backlog < 0 {
            return Err(Error::invalid(format!(
                "backlog {} is negative",
                opts.backlog
            )));
        }
        let addrs = ep.resolve(None)?;
        let mut last = None;
        for addr in &addrs {
            match bind_one(&ep, addr, opts) {
                Ok(l) => return Ok(l),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::invalid(format!("{ep}: no address to bind"))))
    }

    /// Wait for a client (`None` = forever); returns the connection and the peer's address.
    pub fn accept(&self, timeout: Option<Duration>) -> Result<(Connection, Addr)> {
        self.accept_with(Timeout::from(timeout))
    }

    /// Wait for a client with a [`Timeout`]: `Timeout::Default` uses the listener's own default
    /// ([`set_timeout`](Listener::set_timeout), initially forever).
    pub fn accept_with(&self, timeout: Timeout) -> Result<(Connection, Addr)> {
        let op = || format!("accept on {}", self.local);
        let s = self.h.get(&op)?;
        let deadline = Deadline::after(timeout.resolve(&self.h));
        let _serial = self.h.lock(Ready::Read);
        let (sock, peer) = self.h.call(&s, Ready::Read, &deadline, &op, |fl| loop {
            // accept takes no flags: a call that must not wait checks readiness first.
            if fl != 0 && !ready_now(self.h.fd(), Ready::Read) {
                return Err(std::io::ErrorKind::WouldBlock.into());
            }
            match s.accept() {
                // A client that reset before we accepted it: take the next one.
                Err(e) if e.raw_os_error() == Some(libc::ECONNABORTED) => {}
                r => return r,
            }
        })?;
        drop(_serial);
        let (framing, timeout) = self.accepted_settings();
        let mut c = Connection::from_socket(sock, framing)?;
        c.set_timeout(timeout);
        if let Some(cfg) = &self.tls {
            // Other threads may accept meanwhile; a failed handshake is this call's error (the
            // connection is closed), as with Python's ssl.
            c = c.start_tls_server(cfg)?;
        }
        Ok((c, Addr::from_sockaddr(&peer)))
    }

    /// The default timeout of [`accept_with`](Listener::accept_with)`(Timeout::Default)`.
    pub fn timeout(&self) -> Option<Duration> {
        self.h.timeout()
    }

    /// Set the default accept timeout (`None` = forever, zero = poll).
    pub fn set_timeout(&self, t: Option<Duration>) {
        self.h.set_timeout(t)
    }

    /// The address actually bound (with the real port when 0 was asked).
    pub fn local_addr(&self) -> Result<Addr> {
        if self.h.is_closed() {
            return Err(Error::closed(format!("local address of {}", self.local)));
        }
        Ok(self.local.clone())
    }

    /// Set an option on the listening socket.
    pub fn set_option(&self, opt: SockOpt, value: i64) -> Result<()> {
        options::set_option(&*self.h.get(&|| "set option".into())?, opt, value)
    }

    /// Read an option of the listening socket back from the OS.
    pub fn get_option(&self, opt: SockOpt) -> Result<i64> {
        options::get_option(&*self.h.get(&|| "get option".into())?, opt)
    }

    fn accepted_settings(&self) -> (Framing, Option<Duration>) {
        self.accepted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The framing given to connections accepted from now on.
    pub fn framing(&self) -> Framing {
        self.accepted_settings().0
    }

    /// The default timeout given to connections accepted from now on.
    pub fn conn_timeout(&self) -> Option<Duration> {
        self.accepted_settings().1
    }

    /// Framing for connections accepted from now on.
    pub fn set_framing(&self, framing: Framing) -> Result<()> {
        framing.validate()?;
        self.accepted.lock().unwrap_or_else(|p| p.into_inner()).0 = framing;
        Ok(())
    }

    /// Default timeout for connections accepted from now on.
    pub fn set_conn_timeout(&self, timeout: Option<Duration>) {
        self.accepted.lock().unwrap_or_else(|p| p.into_inner()).1 = timeout;
    }

    /// The raw file descriptor (do not close it).
    pub fn fd(&self) -> i32 {
        self.h.fd()
    }

    /// Stop listening (idempotent); a blocked `accept` returns `Closed`. Removes the Unix socket
    /// file this listener created.
    pub fn close(&self) {
        if self.h.is_closed() {
            return;
        }
        self.h.close();
        if let Some(p) = &self.unix_path {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.close();
    }
}

fn bind_one(ep: &Endpoint, addr: &Addr, opts: &ListenOptions) -> Result<Listener> {
    let op = || format!("listen on {addr}");
    let sa = addr.to_sockaddr()?;
    let mut unix_path = None;
    let sock = match addr {
        Addr::Inet(s) => {
            let domain = Domain::for_address(*s);
            let sock = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))
                .map_err(|e| Error::os(op(), e))?;
            let mut o = opts.options.clone();
            o.reuse_address.get_or_insert(opts.reuse_address);
            if opts.reuse_port {
                o.reuse_port = Some(true);
            }
            if domain == Domain::IPV6 {
                o.v6_only.get_or_insert(!opts.dualstack);
            }
            o.apply(&sock)?;
            sock
        }
        Addr::Unix(Some(path)) => {
            prepare_unix_path(path, opts.remove_stale)?;
            unix_path = Some(path.clone());
            Socket::new(Domain::UNIX, Type::STREAM, None).map_err(|e| Error::os(op(), e))?
        }
        _ => Socket::new(Domain::UNIX, Type::STREAM, None).map_err(|e| Error::os(op(), e))?,
    };
    sock.bind(&sa).map_err(|e| {
        let e = Error::os(op(), e);
        if e.kind() == ErrorKind::AddrInUse {
            Error::os(
                format!("{} (another socket is bound there)", op()),
                std::io::Error::from_raw_os_error(libc::EADDRINUSE),
            )
        } else {
            e
        }
    })?;
    let _ = ep;
    sock.listen(opts.backlog).map_err(|e| Error::os(op(), e))?;
    let local = sock
        .local_addr()
        .map(|a| Addr::from_sockaddr(&a))
        .map_err(|e| Error::os(op(), e))?;
    Ok(Listener {
        h: Holder::new(sock)?,
        local,
        accepted: std::sync::Mutex::new((opts.framing.clone(), opts.conn_timeout)),
        unix_path,
        tls: opts.tls.clone(),
    })
}

/// A Unix path that exists: a live server there is `AddrInUse`; a stale file is removed only when
/// asked.
pub(crate) fn prepare_unix_path(path: &std::path::Path, remove_stale: bool) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !meta.file_type().is_socket() {
        return Err(Error::Os {
            kind: ErrorKind::AddrInUse,
            op: format!(
                "listen on unix:{}: a file that is not a socket is in the way",
                path.display()
            ),
            source: std::io::Error::from_raw_os_error(libc::EADDRINUSE),
        });
    }
    let live = std::os::unix::net::UnixStream::connect(path).is_ok();
    if live {
        return Err(Error::Os {
            kind: ErrorKind::AddrInUse,
            op: format!(
                "listen on unix:{}: a live server listens there",
                path.display()
            ),
            source: std::io::Error::from_raw_os_error(libc::EADDRINUSE),
        });
    }
    if !remove_stale {
        return Err(Error::Os {
            kind: ErrorKind::AddrInUse,
            op: format!(
                "listen on unix:{}: a stale socket file exists (ask to remove stale files)",
                path.display()
            ),
            source: std::io::Error::from_raw_os_error(libc::EADDRINUSE),
        });
    }
    std::fs::remove_file(path)
        .map_err(|e| Error::os(format!("remove stale unix:{}", path.display()), e))
}
