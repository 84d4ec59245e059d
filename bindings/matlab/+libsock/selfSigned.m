function [cert, key] = selfSigned(names)
%SELFSIGNED  A self-signed certificate and its private key (PEM text) for NAMES.
%   [CERT, KEY] = libsock.selfSigned(["localhost", "127.0.0.1"]) makes a certificate for the
%   host names and IP addresses in NAMES (a string array, a cell array of char, or one
%   comma-separated text): to try TLS in a minute, for tests, and for devices trusted by their
%   pin (libsock.fingerprint(CERT), libsock.TlsConfig's "Pin").
%
%   Example:
%       [cert, key] = libsock.selfSigned("localhost");
%       tls = libsock.TlsConfig("server", "CertPem", cert, "KeyPem", key);
%
%   See also libsock.fingerprint, libsock.TlsConfig.

libsock.load();
names = strjoin(cellstr(names), ',');
cap = 8192;
certBuf = libpointer('uint8Ptr', zeros(1, cap, 'uint8'));
keyBuf = libpointer('uint8Ptr', zeros(1, cap, 'uint8'));
certLen = libpointer(libsock.ptrtype('size'), 0);
keyLen = libpointer(libsock.ptrtype('size'), 0);
rc = calllib('libsock', 'ls_tls_self_signed', char(names), certBuf, uint64(cap), certLen, ...
    keyBuf, uint64(cap), keyLen);
libsock.check(rc);
cert = char(certBuf.Value(1:double(certLen.Value)));
key = char(keyBuf.Value(1:double(keyLen.Value)));
end
