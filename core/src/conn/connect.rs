//! Making a [`Connection`]: connect (every resolved address, with a timeout), adopt a socket, a
//! connected pair.

use super::*;

impl Connection {
    /// Connect to `endpoint` (`"host:port"`, `"[::1]:80"`, `"unix:/path"`, `(host, port)`, ...)
    /// with default options, trying every resolved address.
    pub fn connect(endpoint: impl ToEndpoint) -> Result<Connection> {
        Connection::connect_with(endpoint, &ConnectOptions::default())
    }

    /// Connect with a time limit for resolving and connecting together.
    pub fn connect_timeout(endpoint: impl ToEndpoint, timeout: Duration) -> Result<Connection> {
        Connection::connect_with(endpoint, &ConnectOptions::new().connect_timeout(timeout))
    }

    /// Connect with options. Every resolved address (IPv6 and IPv4) is tried in turn, each with a
    /// fair share of the remaining time, before the last error is returned.
    pub fn connect_with(endpoint: impl ToEndpoint, opts: &ConnectOptions) -> Result<Connection> {
        let ep = endpoint.to_endpoint()?;
        opts.framing.validate()?;
        if let Some(proxy) = &opts.proxy {
            return Connection::connect_proxied(&ep, proxy, opts);
        }
        let deadline = Deadline::after(opts.connect_timeout);
        let addrs = ep.resolve(deadline.remaining())?;
        let mut last = None;
        let n = addrs.len();
        for (i, addr) in addrs.iter().enumerate() {
            let share = deadline
                .remaining()
                .map(|r| r / (n - i) as u32)
                .map(|s| deadline.at_most(s))
                .unwrap_or(deadline);
            match connect_one(&ep, addr, opts, &share) {
                Ok(c) => return c.start_tls_client(&ep, opts),
                Err(e) if e.kind() == crate::ErrorKind::Interrupted => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        let e = last.unwrap_or_else(|| Error::Resolve {
            host: ep.to_string(),
            reason: "no addresses".into(),
        });
        if n > 1 {
            return Err(match e {
                Error::Os { kind, source, op } => Error::Os {
                    kind,
                    op: format!("{op} (tried {n} addresses of {ep})"),
                    source,
                },
                other => other,
            });
        }
        Err(e)
    }

    /// Connect to the proxy, then have it connect us to `ep` (its exchange within what is left
    /// of the connect timeout), then TLS with `ep` over the tunnel when configured.
    fn connect_proxied(
        ep: &Endpoint,
        proxy: &crate::Proxy,
        opts: &ConnectOptions,
    ) -> Result<Connection> {
        let target = crate::proxy::Target::of(ep, proxy)?;
        let deadline = Deadline::after(opts.connect_timeout);
        let mut direct = opts.clone();
        direct.proxy = None;
        direct.tls = None;
        let c = Connection::connect_with(proxy.endpoint(), &direct)
            .map_err(|e| proxy.reaching(&target, e))?;
        let op = || proxy.op(&target);
        // Errors of the exchange name the target and the proxy, not only the proxy's address.
        let fix = |e: Error| -> Error {
            match e {
                Error::Timeout { .. } => Error::Timeout {
                    op: op(),
                    ms: opts.connect_timeout.map_or(0, |d| d.as_millis()),
                },
                Error::Closed { .. } => crate::proxy::closed_during(proxy, &target),
                Error::Os { kind, source, .. } => Error::Os {
                    kind,
                    op: op(),
                    source,
                },
                Error::Interrupted { .. } => Error::Interrupted { op: op() },
                other => other,
            }
        };
        let mut send = |b: &[u8]| {
            c.with_timeout(deadline.remaining())
                .send_all(b)
                .map_err(fix)
        };
        let mut recv = |b: &mut [u8]| {
            c.with_timeout(deadline.remaining())
                .recv_exact_into(b)
                .map_err(fix)
        };
        crate::proxy::handshake_blocking(proxy, &target, &mut send, &mut recv)?;
        c.start_tls_client(ep, opts)
    }

    /// Speak TLS on a freshly connected socket: handshake (within the settings' handshake
    /// timeout) as the client of `ep`'s host.
    fn start_tls_client(mut self, ep: &Endpoint, opts: &ConnectOptions) -> Result<Connection> {
        let Some(cfg) = &opts.tls else {
            return Ok(self);
        };
        let host = match ep {
            Endpoint::Inet { host, .. } => host.clone(),
            other => other.to_string(),
        };
        self.tls = Some(tls::Session::client(cfg, &host)?);
        self.handshake(cfg.handshake_timeout)?;
        Ok(self)
    }

    /// Speak TLS as the server on a freshly accepted connection (handshake within the
    /// settings' handshake timeout).
    pub(crate) fn start_tls_server(mut self, cfg: &crate::tls::ServerTls) -> Result<Connection> {
        self.tls = Some(tls::Session::server(cfg)?);
        self.handshake(cfg.handshake_timeout)?;
        Ok(self)
    }

    fn handshake(&self, limit: Duration) -> Result<()> {
        let t = self.tls.as_ref().expect("a TLS session");
        let s = self.sock("TLS handshake with")?;
        let op = || self.op("TLS handshake with");
        t.handshake(&self.h, &s, &Deadline::after(Some(limit)), &op)
    }

    /// Wrap an already connected stream socket (e.g. one accepted by a [`Listener`]).
    ///
    /// [`Listener`]: crate::Listener
    pub fn from_socket(sock: Socket, framing: Framing) -> Result<Connection> {
        framing.validate()?;
        let unix = sock.domain().map(|d| d == Domain::UNIX).unwrap_or(false);
        let peer = sock
            .peer_addr()
            .map(|a| Addr::from_sockaddr(&a))
            .map_err(|e| Error::os("peer address", e))?;
        Ok(Connection {
            h: Holder::new(sock)?,
            rx: Mutex::new(Rx::new(framing.clone())),
            tx: Mutex::new(Tx::new(framing)),
            peer,
            unix,
            tls: None,
            counters: Counters::new(),
        })
    }

    /// A pair of connected Unix stream sockets (handy for tests and for talking to a child).
    #[cfg(unix)]
    pub fn pair() -> Result<(Connection, Connection)> {
        let (a, b) = Socket::pair(Domain::UNIX, Type::STREAM, None)
            .map_err(|e| Error::os("socketpair", e))?;
        let mk = |s: Socket| -> Result<Connection> {
            Ok(Connection {
                h: Holder::new(s)?,
                rx: Mutex::new(Rx::new(Framing::Raw)),
                tx: Mutex::new(Tx::new(Framing::Raw)),
                peer: Addr::Unix(None),
                unix: true,
                tls: None,
                counters: Counters::new(),
            })
        };
        Ok((mk(a)?, mk(b)?))
    }
}

fn connect_one(
    ep: &Endpoint,
    addr: &Addr,
    opts: &ConnectOptions,
    deadline: &Deadline,
) -> Result<Connection> {
    let op = || format!("connect to {addr}");
    let sa = addr.to_sockaddr()?;
    let (domain, proto) = match addr {
        Addr::Inet(s) => (Domain::for_address(*s), Some(Protocol::TCP)),
        _ => (Domain::UNIX, None),
    };
    let sock = Socket::new(domain, Type::STREAM, proto).map_err(|e| Error::os(op(), e))?;
    let o = &opts.options;
    if domain != Domain::UNIX {
        o.apply(&sock)?;
        if let Some(local) = o.local_addr {
            sock.bind(&local.into())
                .map_err(|e| Error::os(format!("bind {local} before connecting to {addr}"), e))?;
        }
    }
    sock.set_nonblocking(true).map_err(|e| Error::os(op(), e))?;
    let never = std::sync::atomic::AtomicBool::new(false);
    loop {
        match sock.connect(&sa) {
            Ok(()) => break,
            // A Unix listener with a full backlog answers EAGAIN: the connect did not start, so
            // try again shortly (until the deadline) instead of waiting for writability.
            Err(e) if domain == Domain::UNIX && would_block(&e) => {
                let pause = deadline.at_most(Duration::from_millis(10));
                match crate::wait::wait_fd(-1, Ready::Write, &pause, &never, &op) {
                    Err(e) if e.kind() == crate::ErrorKind::Timeout => {
                        if deadline.remaining() == Some(Duration::ZERO) {
                            return Err(deadline.timeout_error(op));
                        }
                    }
                    other => other?,
                }
            }
            Err(e)
                if e.raw_os_error() == Some(libc::EINPROGRESS)
                    || would_block(&e)
                    || interrupted(&e) =>
            {
                crate::wait::wait_fd(
                    std::os::fd::AsRawFd::as_raw_fd(&sock),
                    Ready::Write,
                    deadline,
                    &never,
                    &op,
                )?;
                if let Some(err) = sock.take_error().map_err(|e| Error::os(op(), e))? {
                    return Err(Error::os(op(), err));
                }
                break;
            }
            Err(e) => return Err(Error::os(op(), e)),
        }
    }
    let _ = ep;
    let c = Connection::from_socket(sock, opts.framing.clone())?;
    c.set_timeout(opts.timeout);
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, ListenOptions, Listener};
    use std::time::Instant;

    #[test]
    fn unix_connect_to_full_backlog_times_out() {
        let dir = std::env::temp_dir().join(format!("libsock-ut-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ep = format!("unix:{}", dir.join("full.sock").display());
        let l = Listener::bind_with(ep.as_str(), &ListenOptions::new().backlog(0)).unwrap();
        // Fill the queue: connections nobody accepts.
        let mut held = Vec::new();
        let t = Duration::from_millis(200);
        let err = loop {
            match Connection::connect_timeout(ep.as_str(), t) {
                Ok(c) => held.push(c),
                Err(e) => break e,
            }
            assert!(held.len() < 64, "backlog never filled");
        };
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        let start = Instant::now();
        let err = Connection::connect_timeout(ep.as_str(), t).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert!(start.elapsed() < t * 10, "took {:?}", start.elapsed());
        drop(l);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
