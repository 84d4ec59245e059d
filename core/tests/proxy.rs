//! Connecting through real proxies from Debian's packages (S24): dante (`danted`, SOCKS5 without
//! authentication, with a rule that denies one port), microsocks (SOCKS5 with a user name and
//! password, and on IPv6) and tinyproxy (HTTP CONNECT, with and without Basic authentication).
//! Each proxy runs on a loopback port from a config file in a temporary directory, is waited for
//! with a bounded wait and killed at the end of its test. CI installs them (.ci/install-deps).

mod common;

use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::*;
use libsock::engine::{Client, ClientConfig, DisconnectReason, Event, Server, ServerConfig};
use libsock::tls::{TlsClient, TlsServer};
use libsock::{
    ConnectOptions, Connection, ErrorKind, Framing, ListenOptions, Listener, Proxy, Result,
};

const WAIT: Duration = Duration::from_secs(10);

/// A proxy process, killed and reaped when dropped.
struct ProxyProc {
    child: Child,
    port: u16,
    host: &'static str,
    _dir: TempDir,
    name: &'static str,
}

impl Drop for ProxyProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ProxyProc {
    /// Start `cmd` (made from the port and the temp dir) and wait until the port accepts.
    fn start(
        name: &'static str,
        host: &'static str,
        cmd: impl FnOnce(u16, &TempDir) -> Command,
    ) -> ProxyProc {
        let dir = TempDir::new(name);
        let port = free_port(host);
        let mut c = cmd(port, &dir);
        let log = std::fs::File::create(dir.path("log")).unwrap();
        c.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let child = c
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {name}: {e} (CI installs it)"));
        let mut p = ProxyProc {
            child,
            port,
            host,
            _dir: dir,
            name,
        };
        let t0 = Instant::now();
        loop {
            if let Some(st) = p.child.try_wait().unwrap() {
                panic!("{name} exited at start ({st}): {}", p.log());
            }
            let addr = format!("{}:{port}", bracket(host));
            if std::net::TcpStream::connect(addr.as_str()).is_ok() {
                return p;
            }
            assert!(t0.elapsed() < WAIT, "{name} did not listen: {}", p.log());
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path("log")).unwrap_or_default()
    }

    /// The proxy URL, with `auth` (user:pass) when given.
    fn url(&self, scheme: &str, auth: Option<&str>) -> Proxy {
        let auth = auth.map(|a| format!("{a}@")).unwrap_or_default();
        Proxy::parse(&format!(
            "{scheme}://{auth}{}:{}",
            bracket(self.host),
            self.port
        ))
        .unwrap()
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// A port free on `host` right now (the proxy binds it a moment later).
fn free_port(host: &str) -> u16 {
    let l = StdListener::bind((host, 0)).unwrap();
    l.local_addr().unwrap().port()
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// dante's `danted`: SOCKS5 without authentication; connections to 127.0.0.1:`denied` are
/// refused by a rule.
fn dante(denied: u16) -> ProxyProc {
    let danted = require_tool("danted");
    ProxyProc::start("danted", "127.0.0.1", |port, dir| {
        let user = if is_root() {
            "user.privileged: root\nuser.unprivileged: nobody\n"
        } else {
            ""
        };
        let conf = format!(
            "logoutput: stderr\n\
             internal: 127.0.0.1 port = {port}\n\
             external: 127.0.0.1\n\
             clientmethod: none\n\
             socksmethod: none\n\
             {user}\
             client pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 }}\n\
             socks block {{ from: 0.0.0.0/0 to: 127.0.0.1/32 port = {denied} log: error }}\n\
             socks pass {{ from: 0.0.0.0/0 to: 0.0.0.0/0 }}\n"
        );
        let path = dir.path("danted.conf");
        std::fs::write(&path, conf).unwrap();
        let mut c = Command::new(danted);
        c.arg("-f")
            .arg(&path)
            .arg("-N")
            .arg("1")
            .arg("-p")
            .arg(dir.path("danted.pid"));
        c
    })
}

/// microsocks: SOCKS5 with user `alice`, password `s3cret` (none when `auth` is false), on
/// `host`.
fn microsocks(host: &'static str, auth: bool) -> ProxyProc {
    let bin = require_tool("microsocks");
    ProxyProc::start("microsocks", host, |port, _| {
        let mut c = Command::new(bin);
        c.arg("-i").arg(host).arg("-p").arg(port.to_string());
        if auth {
            c.args(["-u", "alice", "-P", "s3cret"]);
        }
        c
    })
}

/// tinyproxy: HTTP CONNECT to any port, with Basic authentication `alice:s3cret` when `auth`.
fn tinyproxy(auth: bool) -> ProxyProc {
    let bin = require_tool("tinyproxy");
    ProxyProc::start("tinyproxy", "127.0.0.1", |port, dir| {
        let mut conf = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\nAllow 127.0.0.1\n\
             LogLevel Info\nDisableViaHeader Yes\nPidFile \"{}\"\n",
            dir.path("tinyproxy.pid").display()
        );
        if is_root() {
            conf.push_str("User nobody\nGroup nogroup\n");
        }
        if auth {
            conf.push_str("BasicAuth alice s3cret\n");
        }
        let path: PathBuf = dir.path("tinyproxy.conf");
        std::fs::write(&path, conf).unwrap();
        let mut c = Command::new(bin);
        c.arg("-d").arg("-c").arg(&path);
        c
    })
}

/// An echo server for `n` connections on `host`; returns its port.
fn echo_server(host: &str, n: usize) -> (u16, JoinHandle<()>) {
    let l = Listener::bind((host, 0)).unwrap();
    let port = port_of(&l.local_addr().unwrap());
    let t = thread::spawn(move || {
        for _ in 0..n {
            let Ok((c, _)) = l.accept(Some(WAIT)) else {
                return;
            };
            c.set_timeout(Some(WAIT));
            thread::spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(k) = c.recv(&mut buf) {
                    if k == 0 || c.send_all(&buf[..k]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, t)
}

fn via(proxy: Proxy) -> ConnectOptions {
    ConnectOptions::new()
        .connect_timeout(WAIT)
        .timeout(Some(WAIT))
        .proxy(proxy)
}

/// 1 KiB out, the same 1 KiB back.
fn echo_1k(c: &Connection) {
    let data = random_bytes(1024, 24);
    c.send_all(&data).unwrap();
    assert_eq!(&c.recv_exact(1024).unwrap()[..], &data[..]);
}

fn refused(r: Result<Connection>, says: &[&str]) -> libsock::Error {
    let e = expect_kind(r, ErrorKind::ConnectionRefused);
    for s in says {
        assert!(e.to_string().contains(s), "{s:?} not in: {e}");
    }
    e
}

#[test]
fn s24_socks5_echo_through_dante_and_its_refusals_are_clear() {
    let denied = free_port("127.0.0.1");
    let px = dante(denied);
    let (port, t) = echo_server("127.0.0.1", 2);
    // An IPv4 address and a host name the proxy resolves (remote DNS).
    for target in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let c = Connection::connect_with(target.as_str(), &via(px.url("socks5", None))).unwrap();
        echo_1k(&c);
        // The socket's peer is the proxy.
        assert_eq!(port_of(&c.peer_addr()), px.port);
        c.close();
        c.close();
    }
    t.join().unwrap();
    // A rule denies this port: reply 2.
    let e = refused(
        Connection::connect_with(
            format!("127.0.0.1:{denied}").as_str(),
            &via(px.url("socks5", None)),
        ),
        &["connection not allowed by ruleset", "SOCKS5 proxy"],
    );
    assert!(
        e.to_string().contains(&format!("127.0.0.1:{denied}")),
        "{e}"
    );
    // Nobody listens behind the proxy: reply 5.
    let closed = free_port("127.0.0.1");
    refused(
        Connection::connect_with(
            format!("127.0.0.1:{closed}").as_str(),
            &via(px.url("socks5", None)),
        ),
        &["replied 5 (connection refused)"],
    );
    // A name nobody can resolve: dante says the host is unreachable (reply 4).
    let e = expect_kind(
        Connection::connect_with("no-such-host.invalid:80", &via(px.url("socks5", None))),
        ErrorKind::Unreachable,
    );
    assert!(e.to_string().contains("no-such-host.invalid"), "{e}");
    assert_eq!(px.name, "danted");
}

#[test]
fn socks5_user_and_password_with_microsocks() {
    let px = microsocks("127.0.0.1", true);
    let (port, t) = echo_server("127.0.0.1", 1);
    let target = format!("localhost:{port}");
    let c = Connection::connect_with(
        target.as_str(),
        &via(px.url("socks5", Some("alice:s3cret"))),
    )
    .unwrap();
    echo_1k(&c);
    drop(c);
    t.join().unwrap();
    refused(
        Connection::connect_with(target.as_str(), &via(px.url("socks5", Some("alice:wrong")))),
        &["rejected the user name \"alice\""],
    );
    refused(
        Connection::connect_with(target.as_str(), &via(px.url("socks5", None))),
        &["accepts none of the offered authentication methods"],
    );
}

#[test]
fn socks5_to_an_ipv6_target_through_microsocks_on_ipv6() {
    let px = microsocks("::1", false);
    let (port, t) = echo_server("::1", 1);
    let c = Connection::connect_with(
        format!("[::1]:{port}").as_str(),
        &via(px.url("socks5", None)),
    )
    .unwrap();
    echo_1k(&c);
    drop(c);
    t.join().unwrap();
}

#[test]
fn http_connect_through_tinyproxy_with_and_without_basic_auth() {
    let open = tinyproxy(false);
    let locked = tinyproxy(true);
    let (port, t) = echo_server("127.0.0.1", 2);
    let target = format!("127.0.0.1:{port}");
    for p in [
        open.url("http", None),
        locked.url("http", Some("alice:s3cret")),
    ] {
        let c = Connection::connect_with(target.as_str(), &via(p)).unwrap();
        echo_1k(&c);
    }
    t.join().unwrap();
    refused(
        Connection::connect_with(target.as_str(), &via(locked.url("http", None))),
        &["HTTP proxy", "407 Proxy Authentication Required"],
    );
    refused(
        Connection::connect_with(
            target.as_str(),
            &via(locked.url("http", Some("alice:wrong"))),
        ),
        &["401 Unauthorized"],
    );
    let closed = free_port("127.0.0.1");
    refused(
        Connection::connect_with(
            format!("127.0.0.1:{closed}").as_str(),
            &via(open.url("http", None)),
        ),
        &["500 Unable to connect"],
    );
}

#[test]
fn the_connect_timeout_covers_a_silent_proxy_and_bad_targets_are_invalid() {
    // Accepts and never answers.
    let silent = Listener::bind("127.0.0.1:0").unwrap();
    let proxy = Proxy::socks5("127.0.0.1", port_of(&silent.local_addr().unwrap()));
    let t0 = Instant::now();
    let e = expect_kind(
        Connection::connect_with(
            "example.com:80",
            &ConnectOptions::new()
                .connect_timeout(Duration::from_millis(300))
                .proxy(proxy.clone()),
        ),
        ErrorKind::Timeout,
    );
    assert!(t0.elapsed() < WAIT, "took {:?}", t0.elapsed());
    assert!(
        e.to_string()
            .contains("connect to example.com:80 through SOCKS5 proxy 127.0.0.1:"),
        "{e}"
    );
    let e = expect_kind(
        Connection::connect_with("unix:/tmp/x.sock", &via(proxy.clone())),
        ErrorKind::InvalidArgument,
    );
    assert!(e.to_string().contains("Unix socket"), "{e}");
    let long = format!("{}:80", "a".repeat(300));
    expect_kind(
        Connection::connect_with(long.as_str(), &via(proxy)),
        ErrorKind::InvalidArgument,
    );
}

/// A CA and a leaf for `localhost` only (PEM: ca, leaf, key).
fn localhost_cert() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).unwrap();
    (ca_cert.pem(), leaf_cert.pem(), leaf_key.serialize_pem())
}

#[test]
fn tls_runs_end_to_end_over_the_tunnel_and_checks_the_targets_name() {
    let (ca, leaf, key) = localhost_cert();
    let px = dante(free_port("127.0.0.1"));
    let l = Listener::bind_with(
        "127.0.0.1:0",
        &ListenOptions::new().conn_timeout(Some(WAIT)).tls(
            TlsServer::new()
                .cert_pem(leaf.as_bytes(), key.as_bytes())
                .unwrap()
                .build()
                .unwrap(),
        ),
    )
    .unwrap();
    let port = port_of(&l.local_addr().unwrap());
    let t = thread::spawn(move || {
        let (c, _) = l.accept(Some(WAIT)).unwrap();
        let m = c.recv_msg().unwrap();
        c.send_msg(&m).unwrap();
    });
    let tls = TlsClient::new()
        .ca_pem(ca.as_bytes())
        .unwrap()
        .build()
        .unwrap();
    // The certificate names localhost, the proxy is 127.0.0.1: the name checked is the target's.
    let c = Connection::connect_with(
        format!("localhost:{port}").as_str(),
        &via(px.url("socks5", None))
            .tls(tls.clone())
            .framing(Framing::length_prefixed()),
    )
    .unwrap();
    assert!(c.is_tls());
    c.send_msg(b"over the tunnel").unwrap();
    assert_eq!(&c.recv_msg().unwrap()[..], b"over the tunnel");
    t.join().unwrap();
}

/// The client's events until `pred` matches (common's `pull_until`, 20 s).
fn client_until(c: &Client, pred: impl FnMut(&Event) -> bool) -> Vec<Event> {
    pull_until(|t| c.next_events(64, t), Duration::from_secs(20), pred)
}

#[test]
fn s24_engine_client_goes_through_the_proxy_on_every_reconnect() {
    let px = dante(free_port("127.0.0.1"));
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let port = port_of(&server.local_addr());
    let cfg = ClientConfig::new()
        .backoff(Duration::from_millis(20), Duration::from_millis(200))
        .proxy(px.url("socks5", None));
    let client = Client::connect(format!("localhost:{port}").as_str(), cfg).unwrap();
    for round in 1..=2u64 {
        let evs = client_until(&client, |e| matches!(e, Event::Connected { .. }));
        match evs.last() {
            Some(Event::Connected { client: id, peer }) => {
                assert_eq!(*id, round);
                assert_eq!(port_of(peer), px.port, "connected through the proxy");
            }
            other => panic!("{other:?}"),
        }
        client.send(format!("hello {round}").as_bytes()).unwrap();
        // The server sees the message and drops the client: it reconnects through the proxy.
        let end = Instant::now() + WAIT;
        let id = loop {
            assert!(Instant::now() < end, "no message at the server");
            let evs = server
                .next_events(64, Some(Duration::from_millis(50)))
                .unwrap();
            if let Some(Event::Message { client, data }) =
                evs.iter().find(|e| matches!(e, Event::Message { .. }))
            {
                assert_eq!(&data[..], format!("hello {round}").as_bytes());
                break *client;
            }
        };
        server.disconnect(id, true).unwrap();
    }
    assert!(client.stats().connections >= 2);
    client.close(Duration::ZERO);
}

#[test]
fn engine_client_reports_a_refusing_proxy_and_runs_tls_through_one() {
    let denied = free_port("127.0.0.1");
    let px = dante(denied);
    let cfg = ClientConfig::new()
        .reconnect(false)
        .connect_timeout(WAIT)
        .proxy(px.url("socks5", None));
    let client = Client::connect(format!("127.0.0.1:{denied}").as_str(), cfg.clone()).unwrap();
    let evs = client_until(&client, |e| matches!(e, Event::Disconnected { .. }));
    match evs.last() {
        Some(Event::Disconnected {
            client: 0,
            reason: DisconnectReason::Error(kind, msg),
        }) => {
            assert_eq!(*kind, ErrorKind::ConnectionRefused);
            assert!(msg.contains("connection not allowed by ruleset"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    // TLS over the tunnel, the name being the target's (localhost), not the proxy's.
    let (ca, leaf, key) = localhost_cert();
    let server = Server::bind(
        "127.0.0.1:0",
        ServerConfig::new().tls(
            TlsServer::new()
                .cert_pem(leaf.as_bytes(), key.as_bytes())
                .unwrap()
                .build()
                .unwrap(),
        ),
    )
    .unwrap();
    let port = port_of(&server.local_addr());
    let tls = TlsClient::new()
        .ca_pem(ca.as_bytes())
        .unwrap()
        .build()
        .unwrap();
    let client = Client::connect(format!("localhost:{port}").as_str(), cfg.tls(tls)).unwrap();
    let evs = client_until(&client, |e| {
        matches!(e, Event::Connected { .. } | Event::Disconnected { .. })
    });
    assert!(
        matches!(evs.last(), Some(Event::Connected { .. })),
        "{evs:?}"
    );
    assert!(client.tls_info().is_some());
    client.send(b"secret").unwrap();
    let end = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < end, "no message at the server");
        let evs = server
            .next_events(64, Some(Duration::from_millis(50)))
            .unwrap();
        if let Some(Event::Message { data, .. }) =
            evs.iter().find(|e| matches!(e, Event::Message { .. }))
        {
            assert_eq!(&data[..], b"secret");
            break;
        }
    }
}

#[test]
fn a_unix_target_with_a_proxy_is_refused_by_the_engine_at_once() {
    let cfg = ClientConfig::new().proxy(Proxy::socks5("127.0.0.1", 1080));
    let e = expect_kind(
        Client::connect("unix:/tmp/nothing.sock", cfg),
        ErrorKind::InvalidArgument,
    );
    assert!(
        e.to_string()
            .contains("cannot be reached through SOCKS5 proxy"),
        "{e}"
    );
}

#[test]
fn a_proxy_nobody_runs_is_refused_and_the_error_says_it_was_the_proxy() {
    let port = free_port("127.0.0.1");
    let e = expect_kind(
        Connection::connect_with(
            "example.com:80",
            &via(Proxy::parse(&format!("http://127.0.0.1:{port}")).unwrap()),
        ),
        ErrorKind::ConnectionRefused,
    );
    assert!(
        e.to_string().contains(&format!(
            "connect to 127.0.0.1:{port} (the HTTP proxy for example.com:80)"
        )),
        "{e}"
    );
}

#[test]
fn engine_client_through_tinyproxy_with_basic_auth_and_a_407_without() {
    let px = tinyproxy(true);
    let server = Server::bind("127.0.0.1:0", ServerConfig::new()).unwrap();
    let target = format!("127.0.0.1:{}", port_of(&server.local_addr()));
    let cfg = ClientConfig::new()
        .reconnect(false)
        .connect_timeout(WAIT)
        .proxy(px.url("http", Some("alice:s3cret")));
    let client = Client::connect(target.as_str(), cfg.clone()).unwrap();
    let evs = client_until(&client, |e| {
        matches!(e, Event::Connected { .. } | Event::Disconnected { .. })
    });
    assert!(
        matches!(evs.last(), Some(Event::Connected { .. })),
        "{evs:?}"
    );
    client.send(b"via CONNECT").unwrap();
    let end = Instant::now() + WAIT;
    let id = loop {
        assert!(Instant::now() < end, "no message at the server");
        let evs = server
            .next_events(64, Some(Duration::from_millis(50)))
            .unwrap();
        if let Some(Event::Message { client, data }) =
            evs.iter().find(|e| matches!(e, Event::Message { .. }))
        {
            assert_eq!(&data[..], b"via CONNECT");
            break *client;
        }
    };
    server.send(id, b"back").unwrap();
    let evs = client_until(&client, |e| matches!(e, Event::Message { .. }));
    match evs.last() {
        Some(Event::Message { data, .. }) => assert_eq!(&data[..], b"back"),
        other => panic!("{other:?}"),
    }
    client.close(Duration::ZERO);
    let cfg = cfg.proxy(px.url("http", None));
    let client = Client::connect(target.as_str(), cfg).unwrap();
    let evs = client_until(&client, |e| matches!(e, Event::Disconnected { .. }));
    match evs.last() {
        Some(Event::Disconnected {
            client: 0,
            reason: DisconnectReason::Error(kind, msg),
        }) => {
            assert_eq!(*kind, ErrorKind::ConnectionRefused);
            assert!(msg.contains("407 Proxy Authentication Required"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
}
