function [l, c, s] = pair()
%PAIR  A listener, a client connected to it, and the server side of that connection.
l = libsock.Listener('127.0.0.1', 0, 'Timeout', 10);
c = libsock.TcpClient('127.0.0.1', l.Port, 'Timeout', 10);
s = accept(l);
end
