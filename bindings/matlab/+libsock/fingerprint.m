function fp = fingerprint(cert)
%FINGERPRINT  The SHA-256 fingerprint of a certificate: what libsock.TlsConfig's "Pin" takes.
%   FP = libsock.fingerprint(CERT) gives 64 lowercase hex digits (char) for CERT given as PEM
%   text (char or string, e.g. from libsock.selfSigned or fileread) or as DER bytes (uint8,
%   e.g. tlsInfo(t).PeerCertificate).
%
%   Example:
%       pin = libsock.fingerprint(fileread("device.pem"));
%
%   See also libsock.selfSigned, libsock.TlsConfig.

libsock.load();
if ischar(cert) || isstring(cert)
    bytes = uint8(char(cert));
else
    bytes = uint8(cert);
end
bytes = reshape(bytes, 1, []);
cap = double(libsock.LS_FINGERPRINT_MAX);
buf = libpointer('uint8Ptr', zeros(1, cap, 'uint8'));
n = libpointer(libsock.ptrtype('size'), 0);
rc = calllib('libsock', 'ls_fingerprint', bytes, uint64(numel(bytes)), buf, uint64(cap), n);
libsock.check(rc);
fp = char(buf.Value(1:double(n.Value)));
end
