function k = kcpConnect(host, port, varargin)
%KCPCONNECT  Open a KCP session (reliable messages over UDP) with the KCP server at HOST:PORT.
%   k = libsock.kcpConnect(HOST, PORT, Name, Value, ...) is libsock.KcpSession(HOST, PORT,
%   Name, Value, ...): "Conv", "Timeout", "ByteOrder" and the KCP tuning ("Nodelay",
%   "Interval", "Resend", "Nc", "SendWindow", "RecvWindow", "Mtu", "MinRto", "Stream",
%   "DeadLink"). k = libsock.kcpConnect("127.0.0.1:4000") takes a complete address.
%
%   Example:
%       k = libsock.kcpConnect("127.0.0.1", 4000, "Timeout", 5);
%       send(k, "ping"); disp(recv(k, "char"))
%
%   See also libsock.KcpSession, libsock.KcpServer.
if nargin < 2
    port = [];
end
k = libsock.KcpSession(host, port, varargin{:});
end
