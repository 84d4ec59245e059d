//! libsock against peers that no libsock code wrote: Python's stdlib `socket`, `socat` and
//! `ncat`, speaking length and line framing; half-close (S07) with libsock and Python peers.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use libsock::{
    ConnectOptions, Connection, Delimited, ErrorKind, Framing, LengthPrefixed, ListenOptions,
    Listener, Shutdown,
};

fn listener(framing: Framing) -> Listener {
    Listener::bind_with(
        "127.0.0.1:0",
        &ListenOptions::new()
            .framing(framing)
            .conn_timeout(Some(Duration::from_secs(20))),
    )
    .unwrap()
}

fn accept(l: &Listener) -> Connection {
    l.accept(Some(SLOW)).expect("the peer did not connect").0
}

/// Message `i` of the deterministic set both Python and Rust build: size `(i * 7919) % 65537`
/// (0 included), byte `j` is `(i * 7 + j) & 0xff`.
fn det_msg(i: usize) -> Vec<u8> {
    let n = (i * 7919) % 65537;
    (0..n).map(|j| ((i * 7 + j) & 0xff) as u8).collect()
}

const PY_LEN_ECHO_SERVER: &str = r#"
import socket, struct, sys
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print(srv.getsockname()[1], flush=True)
c, _ = srv.accept()
def rx(n):
    b = bytearray()
    while len(b) < n:
        k = c.recv(n - len(b))
        if not k:
            sys.exit("eof after %d of %d bytes" % (len(b), n))
        b += k
    return bytes(b)
for i in range(int(sys.argv[1])):
    (n,) = struct.unpack(">I", rx(4))
    body = rx(n)
    c.sendall(struct.pack(">I", n) + body[::-1])
c.close()
"#;

/// S05: 1,000 length-prefixed messages of random sizes 0–64 KiB to a Python server that parses
/// the 4-byte big-endian header by hand and answers each with the body reversed.
#[test]
fn s05_1000_length_prefixed_messages_python_server() {
    let mut py = python(PY_LEN_ECHO_SERVER, &["1000"]);
    let port: u16 = py.line().parse().expect("port from python");
    let c = Connection::connect_with(
        ("127.0.0.1", port),
        &ConnectOptions::new()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Some(Duration::from_secs(20)))
            .framing(Framing::length_prefixed()),
    )
    .unwrap();
    let msgs: Vec<Vec<u8>> = (0..1000u64)
        .map(|i| {
            let n = (i as usize).wrapping_mul(2_654_435_761) % (64 * 1024 + 1);
            let n = if i % 97 == 0 { 0 } else { n };
            random_bytes(n, i)
        })
        .collect();
    std::thread::scope(|sc| {
        sc.spawn(|| {
            for m in &msgs {
                c.send_msg(m).unwrap();
            }
        });
        let total: usize = msgs.iter().map(|m| m.len()).sum();
        assert!(total > 20 * MIB, "sizes are spread over 0-64 KiB ({total})");
        for (i, m) in msgs.iter().enumerate() {
            let back = c.recv_msg().unwrap();
            let want: Vec<u8> = m.iter().rev().copied().collect();
            assert_eq!(back.len(), m.len(), "message {i}: size");
            assert!(back[..] == want[..], "message {i}: content");
        }
    });
    expect_kind(c.recv_msg(), ErrorKind::Closed);
    py.wait_ok();
}

const PY_LEN_CLIENT: &str = r#"
import socket, struct, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
out = bytearray()
for i in range(int(sys.argv[2])):
    n = (i * 7919) % 65537
    body = bytes((i * 7 + j) & 0xff for j in range(n))
    out += struct.pack("<H", 0xABCD) + struct.pack("<I", n + 6) + body
c.sendall(bytes(out))
c.shutdown(socket.SHUT_WR)
print(c.recv(100).decode(), flush=True)
"#;

/// A Python client sends messages with a hand-built 6-byte header (2 type bytes, then a
/// little-endian 4-byte length that counts the header); the libsock server decodes them with
/// offset, adjustment and keep_header, and batches with `recv_msgs`.
#[test]
fn s05_python_client_custom_length_header() {
    let f = Framing::LengthPrefixed(
        LengthPrefixed::new(4)
            .little_endian()
            .offset(2)
            .adjustment(-6)
            .keep_header(true),
    );
    let l = listener(f);
    let port = port_of(&l.local_addr().unwrap());
    let count = 300;
    let py = python(PY_LEN_CLIENT, &[&port.to_string(), &count.to_string()]);
    let mut py = py;
    let s = accept(&l);
    let mut i = 0;
    while i < count {
        for m in s.recv_msgs(64).unwrap() {
            let body = det_msg(i);
            assert_eq!(&m[..2], &[0xCD, 0xAB], "message {i}: type bytes");
            assert_eq!(
                u32::from_le_bytes(m[2..6].try_into().unwrap()) as usize,
                body.len() + 6,
                "message {i}: length field"
            );
            assert!(m[6..] == body[..], "message {i}: body");
            i += 1;
        }
    }
    expect_kind(s.recv_msg(), ErrorKind::Closed);
    s.send_all(b"done").unwrap();
    assert_eq!(py.line(), "done");
    py.wait_ok();
}

const PY_HALF_CLOSE_SERVER: &str = r#"
import hashlib, socket, sys
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print(srv.getsockname()[1], flush=True)
c, _ = srv.accept()
h = hashlib.sha256()
total = 0
while True:
    b = c.recv(65536)
    if not b:
        break
    total += len(b)
    h.update(b)
# The client has shut down writing; we still answer: a digest line, then 1 MiB of a pattern.
c.sendall(("%d %s\n" % (total, h.hexdigest())).encode())
c.sendall(bytes(i % 251 for i in range(1 << 20)))
c.close()
"#;

/// S07: the libsock client shuts down writing; the Python server reads to end of stream, then
/// replies, and the client reads the whole reply.
#[test]
fn s07_half_close_client_python_server() {
    let mut py = python(PY_HALF_CLOSE_SERVER, &[]);
    let port: u16 = py.line().parse().unwrap();
    let c = Connection::connect_with(
        ("127.0.0.1", port),
        &ConnectOptions::new()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Some(Duration::from_secs(20))),
    )
    .unwrap();
    let data = urandom(3 * MIB + 5);
    c.send_all(&data).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let line = c.recv_until(b"\n", 200).unwrap();
    let want = format!("{} {}\n", data.len(), hex(&sha256(&data)));
    assert_eq!(std::str::from_utf8(&line).unwrap(), want);
    let reply = c.recv_exact(1 << 20).unwrap();
    assert!(reply.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8));
    let mut b = [0u8; 4];
    assert_eq!(c.recv(&mut b).unwrap(), 0, "end of stream after the reply");
    py.wait_ok();
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// S07 between two libsock ends: the server sees `Closed` from `recv_msg` and `recv_exact` and 0
/// from raw `recv`, then still sends its reply, which the client reads completely.
#[test]
fn s07_half_close_libsock_both_ends() {
    let (c, s) = tcp_pair(Framing::length_prefixed());
    c.send_msg(b"request one").unwrap();
    c.send_msg(b"request two").unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    assert_eq!(&s.recv_msg().unwrap()[..], b"request one");
    assert_eq!(&s.recv_msg().unwrap()[..], b"request two");
    let e = expect_kind(s.recv_msg(), ErrorKind::Closed);
    assert!(e.to_string().contains("127.0.0.1"), "{e}");
    expect_kind(s.recv_exact(1), ErrorKind::Closed);
    let mut b = [0u8; 16];
    assert_eq!(s.recv(&mut b).unwrap(), 0);
    // The client itself can no longer send (EPIPE) ...
    expect_kind(c.send_msg(b"late"), ErrorKind::Io);
    // ... but the server still can.
    let reply = urandom(2 * MIB);
    s.send_msg(&reply).unwrap();
    s.send_msg(b"").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert!(c.recv_msg().unwrap()[..] == reply[..]);
    assert_eq!(c.recv_msg().unwrap().len(), 0);
    expect_kind(c.recv_msg(), ErrorKind::Closed);
}

/// A frame cut by the end of stream is `Closed`, and says so.
#[test]
fn end_of_stream_inside_a_frame() {
    let (c, s) = tcp_pair(Framing::length_prefixed());
    c.send_all(&[0, 0, 0, 10, 1, 2, 3]).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let e = expect_kind(s.recv_msg(), ErrorKind::Closed);
    assert!(e.to_string().contains("inside a frame"), "{e}");
}

fn socat() -> Command {
    Command::new(require_tool("socat"))
}

fn ncat() -> Command {
    Command::new(require_tool("ncat"))
}

/// S06 against socat as an echo peer (`EXEC:cat`): `\r\n` lines keep their boundaries; a line
/// longer than max_len is FrameTooLarge and the next line still arrives.
#[test]
fn s06_crlf_lines_socat_echo() {
    let l = listener(Framing::Delimited(
        Delimited::new(b"\r\n".to_vec()).max_len(64),
    ));
    let port = port_of(&l.local_addr().unwrap());
    let mut cmd = socat();
    cmd.arg(format!("TCP:127.0.0.1:{port}"))
        .arg("EXEC:cat")
        .stdin(Stdio::null());
    let _peer = Peer::spawn(cmd);
    let s = accept(&l);
    let lines: Vec<String> = (0..200)
        .map(|i| format!("line {i} {}", "x".repeat(i % 50)))
        .collect();
    for line in &lines {
        s.send_msg(line.as_bytes()).unwrap();
    }
    s.send_msg(b"").unwrap();
    for line in &lines {
        assert_eq!(s.recv_msg().unwrap(), line.as_bytes());
    }
    assert_eq!(s.recv_msg().unwrap().len(), 0, "empty line");
    // A 10 KiB line (sent raw: send_msg refuses it) comes back as FrameTooLarge.
    expect_kind(s.send_msg(&[b'y'; 65]), ErrorKind::FrameTooLarge);
    let mut long = vec![b'z'; 10 * 1024];
    long.extend_from_slice(b"\r\nafter\r\n");
    s.send_all(&long).unwrap();
    let e = expect_kind(s.recv_msg(), ErrorKind::FrameTooLarge);
    assert!(e.to_string().contains("64"), "{e}");
    assert_eq!(&s.recv_msg().unwrap()[..], b"after");
}

/// socat relays bytes from its stdin (written here by hand: 2-byte little-endian lengths) to a
/// libsock server with matching framing; end of stdin becomes `Closed`.
#[test]
fn socat_stdin_hand_built_length_frames() {
    let l = listener(Framing::LengthPrefixed(
        LengthPrefixed::new(2).little_endian(),
    ));
    let port = port_of(&l.local_addr().unwrap());
    let mut cmd = socat();
    cmd.arg("-u")
        .arg("STDIN")
        .arg(format!("TCP:127.0.0.1:{port}"))
        .stdin(Stdio::piped());
    let mut peer = Peer::spawn(cmd);
    let mut stdin = peer.child.stdin.take().unwrap();
    let msgs: Vec<Vec<u8>> = (0..500)
        .map(|i| random_bytes(i * 131 % 3000, i as u64))
        .collect();
    let mut wire = Vec::new();
    for m in &msgs {
        wire.extend_from_slice(&(m.len() as u16).to_le_bytes());
        wire.extend_from_slice(m);
    }
    let writer = std::thread::spawn(move || {
        stdin.write_all(&wire).unwrap();
        // stdin dropped: socat sees EOF and closes the connection.
    });
    let s = accept(&l);
    for (i, m) in msgs.iter().enumerate() {
        assert!(s.recv_msg().unwrap()[..] == m[..], "message {i}");
    }
    expect_kind(s.recv_msg(), ErrorKind::Closed);
    writer.join().unwrap();
    peer.wait_ok();
}

/// ncat as an echo peer (`--exec /bin/cat`) with 4-byte big-endian length framing and lines
/// (under 64 KiB in flight at a time: see below).
#[test]
fn ncat_echo_length_and_line_framing() {
    let l = listener(Framing::length_prefixed());
    let port = port_of(&l.local_addr().unwrap());
    let mut cmd = ncat();
    cmd.args(["--exec", "/bin/cat", "127.0.0.1", &port.to_string()])
        .stdin(Stdio::null());
    let _peer = Peer::spawn(cmd);
    let s = accept(&l);
    let msgs: Vec<Vec<u8>> = (0..300)
        .map(|i| random_bytes(i * 977 % 12_000, i as u64))
        .collect();
    // At most 48 KiB in flight: ncat relays through pipes to cat and deadlocks when both pipes
    // are full (it blocks writing to cat while cat blocks writing back).
    let (mut sent, mut in_flight) = (0, 0);
    for (i, m) in msgs.iter().enumerate() {
        while sent < msgs.len() && (in_flight == 0 || in_flight + msgs[sent].len() <= 48 * 1024) {
            s.send_msg(&msgs[sent]).unwrap();
            in_flight += msgs[sent].len() + 4;
            sent += 1;
        }
        assert!(s.recv_msg().unwrap()[..] == m[..], "message {i}");
        in_flight -= m.len() + 4;
    }
    // Same connection, switch to lines.
    s.set_framing(Framing::lines()).unwrap();
    for i in 0..100 {
        s.send_msg(format!("hello {i}").as_bytes()).unwrap();
    }
    for i in 0..100 {
        assert_eq!(s.recv_msg().unwrap(), format!("hello {i}").as_bytes());
    }
}

/// ncat as a client with stdin/stdout: it sends lines and half-closes at the end of its stdin;
/// the libsock server reads lines to `Closed`, then replies, and ncat prints the reply.
#[test]
fn ncat_lines_half_close_then_reply() {
    let l = listener(Framing::lines());
    let port = port_of(&l.local_addr().unwrap());
    let mut cmd = ncat();
    cmd.args(["127.0.0.1", &port.to_string()])
        .stdin(Stdio::piped());
    let mut peer = Peer::spawn(cmd);
    let mut stdin = peer.child.stdin.take().unwrap();
    stdin.write_all(b"alpha\nbeta\r\n\ngamma\n").unwrap();
    drop(stdin);
    let s = accept(&l);
    assert_eq!(&s.recv_msg().unwrap()[..], b"alpha");
    assert_eq!(&s.recv_msg().unwrap()[..], b"beta\r");
    assert_eq!(&s.recv_msg().unwrap()[..], b"");
    assert_eq!(&s.recv_msg().unwrap()[..], b"gamma");
    expect_kind(s.recv_msg(), ErrorKind::Closed);
    s.send_msg(b"reply 1").unwrap();
    s.send_msg(b"reply 2").unwrap();
    s.close();
    let mut out = String::new();
    peer.out.take().unwrap().read_to_string(&mut out).unwrap();
    assert_eq!(out, "reply 1\nreply 2\n");
    peer.wait_ok();
}

const PY_UNIX_CLIENT: &str = r#"
import socket, sys
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
path = sys.argv[1]
c.connect(("\0" + path[1:]) if path.startswith("@") else path)
c.sendall(b"from python\n")
print(c.makefile().readline().strip(), flush=True)
"#;

/// A Python client over a Unix socket path and over an abstract name.
#[test]
fn python_client_over_unix_path_and_abstract_name() {
    let dir = TempDir::new("pyunix");
    let path = dir.path("s.sock");
    let name = format!("@{}", abstract_name("py"));
    for (endpoint, arg) in [
        (
            format!("unix:{}", path.display()),
            path.display().to_string(),
        ),
        (format!("unix:{name}"), name.clone()),
    ] {
        let l = Listener::bind_with(&endpoint, &ListenOptions::new().framing(Framing::lines()))
            .unwrap();
        let mut py = python(PY_UNIX_CLIENT, &[&arg]);
        let s = accept(&l);
        s.set_timeout(Some(Duration::from_secs(10)));
        assert!(s.is_unix());
        assert_eq!(&s.recv_msg().unwrap()[..], b"from python", "{endpoint}");
        s.send_msg(b"from libsock").unwrap();
        assert_eq!(py.line(), "from libsock");
        py.wait_ok();
    }
}
