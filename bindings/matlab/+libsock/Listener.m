classdef Listener < libsock.Socket
    %LISTENER  A TCP (or Unix stream) listener that accepts any number of clients.
    %   MATLAB's own tcpserver serves one client; a libsock.Listener hands out one
    %   libsock.TcpClient per client, each with its own reads, writes and framing.
    %
    %   l = libsock.Listener(PORT) listens on all IPv4 interfaces ("0.0.0.0"); PORT 0 picks a
    %   free port (read it from l.Port).
    %   l = libsock.Listener(HOST, PORT) listens on HOST ("127.0.0.1", "::" for IPv6 and IPv4).
    %   l = libsock.Listener("unix:/tmp/app.sock") listens on a Unix socket.
    %   l = libsock.Listener(..., "Backlog", N, "Timeout", SECONDS) sets the queue of clients not
    %   yet accepted (default 1024) and accept's default wait (default Inf); "Tls" with a
    %   server libsock.TlsConfig accepts TLS clients only (accept returns after the handshake,
    %   or throws 'libsock:tls' naming why it failed).
    %
    %   Listener properties:
    %       Port          - the real local port
    %       Backlog       - the accept queue length asked for
    %       Timeout       - accept's default wait in seconds (Inf: forever)
    %       LocalAddress  - the local address as text
    %
    %   Listener methods:
    %       accept            - wait for a client, return a libsock.TcpClient
    %       configureFraming  - the framing every accepted connection starts with
    %       setOption, getOption, close, delete (see libsock.Socket)
    %
    %   Example:
    %       l = libsock.Listener("127.0.0.1", 0);
    %       fprintf("listening on port %d\n", l.Port);
    %       c = accept(l, 30);          % throws 'libsock:timeout' after 30 s without a client
    %       writeline(c, "welcome");
    %
    %   See also libsock.TcpClient, libsock.Udp, tcpserver.

    properties (SetAccess = private)
        %BACKLOG  The accept queue length asked for (0 = the default, 1024).
        Backlog = 0
    end

    properties (Dependent, SetAccess = private)
        %PORT  The real local port (after listening on port 0 too).
        Port
    end

    methods
        function obj = Listener(host, port, varargin)
            %LISTENER  Listen (see the class help).
            libsock.load();
            if nargin == 1 && isnumeric(host)
                port = host;
                host = "0.0.0.0";
            elseif nargin < 2
                port = [];
            elseif ischar(port) || isstring(port)
                varargin = [{port}, varargin];
                port = [];
            end
            opts = struct('Backlog', 0, 'Timeout', Inf, 'ByteOrder', "little-endian", 'Tls', []);
            for k = 1:2:numel(varargin)
                name = validatestring(varargin{k}, fieldnames(opts));
                opts.(name) = varargin{k + 1};
            end
            target = libsock.Socket.formatAddress(host, port);
            backlog = opts.Backlog;
            out = libpointer(libsock.ptrtype('int64'), 0);
            if isempty(opts.Tls)
                rc = calllib('libsock', 'ls_listen', char(target), int32(backlog), out);
            else
                o = libsock.TlsConfig.optionsFor(opts.Tls);
                rc = calllib('libsock', 'ls_listen_ex', char(target), int32(backlog), o, out);
                calllib('libsock', 'ls_close', o);
            end
            libsock.check(rc);
            obj.Handle = out.Value;
            obj.Backlog = backlog;
            obj.Timeout = opts.Timeout;
            obj.ByteOrder = opts.ByteOrder;
        end

        function p = get.Port(obj)
            p = obj.LocalPort;
        end

        function client = accept(obj, timeout)
            %ACCEPT  Wait for a client and return its connection as a libsock.TcpClient.
            %   c = accept(l) waits up to the listener's Timeout; c = accept(l, SECONDS) up to
            %   SECONDS (0: only a client already waiting, Inf: forever). Throws
            %   'libsock:timeout' when no client came. The client's address is c.Address,
            %   c.Port; its framing is the listener's (configureFraming), its ByteOrder too.
            if nargin < 2
                ms = libsock.LS_TIMEOUT_DEFAULT;
            else
                ms = libsock.Socket.toMs(timeout);
            end
            out = libpointer(libsock.ptrtype('int64'), 0);
            rc = calllib('libsock', 'ls_accept', obj.Handle, int32(ms), out);
            libsock.check(rc);
            client = libsock.TcpClient(out.Value);
            client.ByteOrder = obj.ByteOrder;
        end
    end
end
