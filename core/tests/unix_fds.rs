//! Unix socket extras between two processes: descriptors passed with SCM_RIGHTS (an open file and
//! a socket, each way) and the peer's credentials, with Python's `socket.send_fds` /
//! `socket.recv_fds` as the peer in the other process.

mod common;

use std::io::{Read, Seek, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use common::*;
use libsock::{Connection, ErrorKind, Listener};

const PEER: &str = r#"
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
print(os.getpid(), flush=True)
# Rust -> Python: a file and a socket.
data, fds, flags, _ = socket.recv_fds(s, 1024, 4)
assert data == b"two", data
assert len(fds) == 2, fds
f = os.fdopen(fds[0], "rb")
f.seek(0)
print(f.read().decode(), flush=True)
passed = socket.socket(fileno=fds[1])
passed.sendall(b"through the passed socket")
passed.close()
# Python -> Rust: a file and one end of a socket pair.
path = sys.argv[2]
with open(path, "w") as w:
    w.write("written by python")
g = open(path, "rb")
a, b = socket.socketpair()
socket.send_fds(s, [b"back"], [g.fileno(), b.fileno()])
g.close(); b.close()
a.settimeout(10)
got = a.recv(100)
print(got.decode(), flush=True)
s.recv(1)  # wait for the end
"#;

#[test]
fn a_file_and_a_socket_travel_both_ways_between_processes() {
    let dir = TempDir::new("fds");
    let sock = dir.path("s.sock");
    let l = Listener::bind(format!("unix:{}", sock.display()).as_str()).unwrap();
    let back = dir.path("back.txt");
    let mut peer = python(PEER, &[sock.to_str().unwrap(), back.to_str().unwrap()]);
    let (c, _) = l.accept(Some(SLOW)).unwrap();
    c.set_timeout(Some(SLOW));
    let pid: i32 = peer.line().parse().unwrap();
    let cred = c.peer_credentials().unwrap();
    assert_eq!(cred.pid, pid, "the kernel's record of the peer");
    assert_eq!(
        cred.uid,
        std::fs::metadata("/proc/self")
            .map(|m| {
                use std::os::unix::fs::MetadataExt;
                m.uid()
            })
            .unwrap()
    );

    // Rust -> Python.
    let mut f = std::fs::File::create(dir.path("out.txt")).unwrap();
    f.write_all(b"written by rust").unwrap();
    drop(f);
    let f = std::fs::File::open(dir.path("out.txt")).unwrap();
    let (mine, theirs) = UnixStream::pair().unwrap();
    c.send_fds(b"two", &[f.as_fd(), theirs.as_fd()]).unwrap();
    drop(theirs);
    drop(f);
    assert_eq!(peer.line(), "written by rust");
    mine.set_read_timeout(Some(SLOW)).unwrap();
    let mut got = String::new();
    (&mine).read_to_string(&mut got).unwrap();
    assert_eq!(got, "through the passed socket");

    // Python -> Rust.
    let mut buf = [0u8; 64];
    let (n, fds) = c.recv_fds(&mut buf, 4).unwrap();
    assert_eq!(&buf[..n], b"back");
    assert_eq!(fds.len(), 2);
    let mut it = fds.into_iter();
    let mut file = std::fs::File::from(it.next().unwrap());
    file.rewind().unwrap();
    let mut text = String::new();
    file.read_to_string(&mut text).unwrap();
    assert_eq!(text, "written by python");
    let end = UnixStream::from(it.next().unwrap());
    (&end).write_all(b"through a socket python made").unwrap();
    assert_eq!(peer.line(), "through a socket python made");
    c.send_all(b"!").unwrap();
    peer.wait_ok();
}

#[test]
fn tcp_connections_carry_no_descriptors_and_bad_arguments_are_invalid() {
    let (a, _b) = tcp_pair(libsock::Framing::Raw);
    let f = std::fs::File::open("/proc/self/status").unwrap();
    let e = expect_kind(a.send_fds(b"x", &[f.as_fd()]), ErrorKind::Unsupported);
    assert!(
        e.to_string().contains("not a Unix socket connection"),
        "{e}"
    );
    let mut buf = [0u8; 4];
    expect_kind(a.recv_fds(&mut buf, 1), ErrorKind::Unsupported);
    expect_kind(a.peer_credentials(), ErrorKind::Unsupported);

    let (u, v) = Connection::pair().unwrap();
    expect_kind(u.send_fds(b"", &[f.as_fd()]), ErrorKind::InvalidArgument);
    let many: Vec<_> = (0..254).map(|_| f.as_fd()).collect();
    expect_kind(u.send_fds(b"x", &many), ErrorKind::InvalidArgument);
    expect_kind(v.recv_fds(&mut buf, 254), ErrorKind::InvalidArgument);
    // Nothing sent: the receive times out, and bytes without descriptors come with none.
    let e = expect_kind(
        v.with_timeout(Duration::from_millis(100))
            .recv_fds(&mut buf, 1),
        ErrorKind::Timeout,
    );
    assert!(e.to_string().contains("recv descriptors"), "{e}");
    u.send_all(b"ab").unwrap();
    let (n, fds) = v.recv_fds(&mut buf, 1).unwrap();
    assert_eq!((n, fds.len()), (2, 0));
    // Closing the other end: end of stream.
    drop(u);
    assert_eq!(v.recv_fds(&mut buf, 1).unwrap().0, 0);
}
