function failed = libsock_tls_selftest()
%LIBSOCK_TLS_SELFTEST  Scenarios S18-S21 (TLS) with the MATLAB classes, in one session.
%   FAILED = libsock_tls_selftest() runs each check, prints one line per check and a final
%   "matlab-tls-selftest: N passed, M failed" line, and returns M.
%
%   MATLAB code runs on one thread, so each TLS conversation pairs a blocking side with an
%   engine side whose handshakes run on the engine's threads: a libsock.TcpClient against a
%   libsock.Server, or a libsock.Listener against a libsock.Client. The certificates come from
%   openssl (a test CA, a server and a client certificate, made once with system()) and from
%   libsock.selfSigned.
%
%       s18_ca_trust            - a CA-signed server certificate, the client trusts the CA
%                                 and checks the name: 1 MiB echo; a wrong name: 'libsock:tls'
%       s19_pinned_self_signed  - the right pin connects; a wrong pin: 'libsock:tls' on the
%                                 listener, a "tls" disconnect on the engine client
%       s20_mutual_tls          - the server requires a client certificate: with one the echo
%                                 works, without one 'libsock:tls' (no hang)
%       s21_plaintext_and_silent - a plaintext client is a server warning; a silent server
%                                 is 'libsock:timeout' after the handshake timeout
%       config_checks           - refused settings, SNI certificates, fingerprints
%
%   CI runs this very file under Octave (python-tests/test_matlab_path.py).
%
%   See also libsock_selftest, libsock_engine_selftest, libsock.TlsConfig.

addpath(fullfile(fileparts(mfilename('fullpath')), '..'));
libsock.load();
pkiDir = tempname();
mkdir(pkiDir);
cleanup = onCleanup(@() rmdir(pkiDir, 's'));
status = system(['cd ''' pkiDir ''' && timeout 120 sh -c ''' ...
    'openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key ' ...
    '-out ca.pem -days 30 -subj /CN=test-ca && ' ...
    'printf "subjectAltName=DNS:localhost,IP:127.0.0.1\\n" > server.ext && ' ...
    'printf "subjectAltName=DNS:client\\n" > client.ext && ' ...
    'for n in server client; do ' ...
    'openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $n.key ' ...
    '-out $n.csr -subj /CN=$n && ' ...
    'openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $n.pem ' ...
    '-days 30 -extfile $n.ext || exit 1; done'' >/dev/null 2>&1']);
pki = @(name) fullfile(pkiDir, name);
tests = {@(~) s18_ca_trust(pki, status), @(~) s19_pinned_self_signed(), ...
    @(~) s20_mutual_tls(pki, status), @(~) s21_plaintext_and_silent(), @(~) config_checks(pki, status)};
names = {'s18_ca_trust', 's19_pinned_self_signed', 's20_mutual_tls', ...
    's21_plaintext_and_silent', 'config_checks'};
failed = runSelftests('matlab-tls-selftest', tests, names);
end

function waitUntil(done, what)
%WAITUNTIL  Poll DONE() for up to 10 s.
t0 = tic;
while ~done()
    assert(toc(t0) < 10, 'timed out waiting for %s', what);
    pause(0.01);
end
end

function s = tlsServer(tls, varargin)
%TLSSERVER  An engine server speaking TLS with server config TLS.
cfg = libsock.EngineConfig(varargin{:});
configureTls(cfg, tls);
s = libsock.Server('127.0.0.1', 0, cfg);
end

function echoOnce(s, c, msg)
%ECHOONCE  C sends MSG; server S sends it back; C must read it back unchanged.
writemsg(c, msg);
ev = firstKind(pumpUntil(s, @(e) countKind(e, 'message') == 1, 10), 'message');
send(s, ev.Client, ev.Data);
back = readmsg(c, 'uint8');
assert(isequal(reshape(back, 1, []), reshape(uint8(msg), 1, [])), 'echo differs');
end

function s18_ca_trust(pki, status)
%S18_CA_TRUST  CA trust and the name checked; TLS 1.3, ALPN, the peer's certificate.
assert(status == 0, 'openssl made the test certificates');
s = tlsServer(libsock.TlsConfig('server', 'CertFile', pki('server.pem'), ...
    'KeyFile', pki('server.key'), 'Alpn', "x-echo"));
tls = libsock.TlsConfig('client', 'CaFile', pki('ca.pem'), 'Alpn', {'x-other', 'x-echo'});
c = libsock.TcpClient('127.0.0.1', s.Port, 'Tls', tls, 'Timeout', 10);
configureFraming(c, 'length', 4, 'big-endian');
info = tlsInfo(c);
assert(info.IsTls && strcmp(info.Version, 'TLSv1.3') && strcmp(info.Alpn, 'x-echo'));
assert(strncmp(info.Cipher, 'TLS13_', 6));
assert(strcmp(info.PeerFingerprint, libsock.fingerprint(fileread(pki('server.pem')))));
assert(strcmp(libsock.fingerprint(info.PeerCertificate), info.PeerFingerprint));
data = uint8(mod(0:(2^20 - 1), 251));
echoOnce(s, c, data);
clear c
bad = libsock.TlsConfig('client', 'CaFile', pki('ca.pem'), 'ServerName', 'wrong.example');
err = '';
try
    libsock.TcpClient('127.0.0.1', s.Port, 'Tls', bad);
catch e
    err = e;
end
assert(~isempty(err) && strcmp(err.identifier, 'libsock:tls'), 'a wrong name is refused');
assert(~isempty(strfind(err.message, 'name mismatch')), err.message);
events = pumpUntil(s, @(e) countKind(e, 'warning') == 1, 10);
assert(firstKind(events, 'warning').Value == double(libsock.LS_ERR_TLS));
waitUntil(@() stats(s).TlsFailures == 1, 'the server counts the failure');
end

function s19_pinned_self_signed()
%S19_PINNED_SELF_SIGNED  A blocking TLS listener and engine clients pinning its certificate.
[cert, key] = libsock.selfSigned({'device.local', '127.0.0.1'});
pin = libsock.fingerprint(cert);
l = libsock.Listener('127.0.0.1', 0, 'Tls', libsock.TlsConfig('server', 'CertPem', cert, ...
    'KeyPem', key), 'Timeout', 10);
cfg = libsock.EngineConfig('Reconnect', false);
configureTls(cfg, libsock.TlsConfig('client', 'Pin', pin));
c = libsock.Client('127.0.0.1', l.Port, cfg);
a = accept(l);  % the handshake completes here, against the engine client's
assert(strcmp(tlsInfo(a).Version, 'TLSv1.3'));
pumpUntil(c, @(e) countKind(e, 'connected') == 1, 10);
send(c, 'pinned');
configureFraming(a, 'length', 4, 'big-endian');
assert(strcmp(readmsg(a, 'char'), 'pinned'));
other = pin;
other(1) = char('0' + ('0' == pin(1)));
wrong = libsock.EngineConfig('Reconnect', false);
configureTls(wrong, libsock.TlsConfig('client', 'Pin', other));
w = libsock.Client('127.0.0.1', l.Port, wrong);
expectError('libsock:tls', @() accept(l));
ev = firstKind(pumpUntil(w, @(e) countKind(e, 'disconnected') == 1, 10), 'disconnected');
assert(strcmp(ev.Reason, 'tls'), ev.Reason);
assert(~isempty(strfind(ev.Detail, 'pin mismatch')), ev.Detail);
waitUntil(@() stats(w).TlsFailures == 1, 'the client counts the failure');
end

function s20_mutual_tls(pki, status)
%S20_MUTUAL_TLS  The server requires a client certificate.
assert(status == 0, 'openssl made the test certificates');
s = tlsServer(libsock.TlsConfig('server', 'CertFile', pki('server.pem'), ...
    'KeyFile', pki('server.key'), 'ClientAuth', 'required', 'ClientCaFile', pki('ca.pem')));
with = libsock.TlsConfig('client', 'CaFile', pki('ca.pem'), 'CertFile', pki('client.pem'), ...
    'KeyFile', pki('client.key'));
c = libsock.TcpClient('127.0.0.1', s.Port, 'Tls', with, 'Timeout', 10);
configureFraming(c, 'length', 4, 'big-endian');
echoOnce(s, c, 'mutual');
clear c
without = libsock.TlsConfig('client', 'CaPem', fileread(pki('ca.pem')));
err = '';
try
    % TLS 1.3 lets the client finish first: the refusal comes at connect or at the first read.
    c = libsock.TcpClient('127.0.0.1', s.Port, 'Tls', without, 'Timeout', 10);
    read(c, 1);
catch e
    err = e;
end
assert(~isempty(err) && strcmp(err.identifier, 'libsock:tls'), 'no client certificate is refused');
assert(~isempty(strfind(err.message, 'client certificate')), err.message);
end

function s21_plaintext_and_silent()
%S21_PLAINTEXT_AND_SILENT  A plaintext client to a TLS server, a TLS client to a silent one.
[cert, key] = libsock.selfSigned("127.0.0.1");
s = tlsServer(libsock.TlsConfig('server', 'CertPem', cert, 'KeyPem', key));
p = libsock.TcpClient('127.0.0.1', s.Port, 'Timeout', 10);
write(p, 'GET / HTTP/1.0');
ev = firstKind(pumpUntil(s, @(e) countKind(e, 'warning') == 1, 10), 'warning');
assert(ev.Value == double(libsock.LS_ERR_TLS), ev.Detail);
% The server keeps serving TLS clients.
c = libsock.TcpClient('127.0.0.1', s.Port, 'Timeout', 10, ...
    'Tls', libsock.TlsConfig('client', 'Pin', libsock.fingerprint(cert)));
configureFraming(c, 'length', 4, 'big-endian');
echoOnce(s, c, 'still serving');
% A listener that never accepts: nobody answers the ClientHello.
l = libsock.Listener('127.0.0.1', 0);
tls = libsock.TlsConfig('client', 'Pin', libsock.fingerprint(cert), 'HandshakeTimeout', 0.3);
err = '';
try
    libsock.TcpClient('127.0.0.1', l.Port, 'Tls', tls);
catch e
    err = e;
end
assert(~isempty(err) && strcmp(err.identifier, 'libsock:timeout'), 'a silent server times out');
assert(~isempty(strfind(err.message, 'TLS handshake')), err.message);
end

function config_checks(pki, status)
%CONFIG_CHECKS  Refused settings, SNI certificates, addPin/addAlpn, close.
expectError('libsock:invalidArgument', @() libsock.TlsConfig('server', 'Pin', "00"));
expectError('libsock:invalidArgument', @() libsock.TlsConfig('client', 'Pin', "xyz"));
expectError('libsock:invalidArgument', @() libsock.TlsConfig('client', 'CertFile', 'a.pem'));
% Core checks the settings as a whole when a connection builds them, before connecting.
expectError('libsock:invalidArgument', @() libsock.TcpClient('127.0.0.1', 1, 'Tls', ...
    libsock.TlsConfig('client', 'HandshakeTimeout', 0)));
expectError('libsock:invalidArgument', @() libsock.TlsConfig('client', 'HandshakeTimeout', -1));
expectError('libsock:invalidArgument', @() libsock.Listener('127.0.0.1', 0, 'Tls', ...
    libsock.TlsConfig('server')));
expectError('libsock:invalidArgument', @() libsock.TcpClient('127.0.0.1', 1, 'Tls', 5));
tls = libsock.TlsConfig('client', 'BundledRoots', true, 'MinVersion', '1.3', 'Keylog', false, ...
    'DangerousNoVerify', false);
addPin(tls, repmat('ab', 1, 32));
addAlpn(tls, 'h2');
close(tls);
expectError('libsock:badHandle', @() addAlpn(tls, 'h2'));
assert(status == 0, 'openssl made the test certificates');
[cert, key] = libsock.selfSigned("other.example");
pkiDir = fileparts(pki('ca.pem'));
f = fopen(fullfile(pkiDir, 'other.pem'), 'w'); fwrite(f, cert); fclose(f);
f = fopen(fullfile(pkiDir, 'other.key'), 'w'); fwrite(f, key); fclose(f);
srv = libsock.TlsConfig('server', 'CertFile', pki('server.pem'), 'KeyFile', pki('server.key'), ...
    'ClientAuth', 'none');
s = tlsServer(srv);
addSniCert(srv, 'other.example', fullfile(pkiDir, 'other.pem'), fullfile(pkiDir, 'other.key'));
% The server took its copy before addSniCert: a second server sees the SNI certificate.
s2 = tlsServer(srv);
c = libsock.TcpClient('127.0.0.1', s2.Port, 'Tls', libsock.TlsConfig('client', ...
    'Pin', libsock.fingerprint(cert), 'ServerName', 'other.example'));
assert(strcmp(tlsInfo(c).PeerFingerprint, libsock.fingerprint(cert)));
plain = libsock.TcpClient('127.0.0.1', s.Port);
assert(~tlsInfo(plain).IsTls);  % TCP connected; TLS not spoken by this side
end
