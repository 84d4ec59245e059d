classdef KcpServer < libsock.Server
    %KCPSERVER  A KCP server (reliable, ordered messages over UDP) run by libsock's engine,
    %   polled from MATLAB like libsock.Server: each (peer address, conversation) is a client
    %   with an id, and the events and commands are the TCP server's: poll, waitEvents, send,
    %   disconnect, Clients, clientAddress, stats, shutdown, close. (The C ABI's KCP server
    %   does not take sendMany, sendBatch, broadcast or clientStats: they throw
    %   'libsock:badHandle' naming it; send to each client instead.)
    %
    %   s = libsock.KcpServer(HOST, PORT) binds a UDP socket on HOST:PORT (0 picks a free port:
    %   read s.Port); s = libsock.KcpServer(PORT) on "0.0.0.0". Name, Value pairs: the KCP
    %   tuning of libsock.KcpSession ("Nodelay", "Interval", "Resend", "Nc", "SendWindow",
    %   "RecvWindow", "Mtu", "MinRto", "Stream", "DeadLink") and "Linger" (seconds a finished
    %   session's address and conversation are ignored); the libsock.EngineConfig settings
    %   that apply (EventCapacity, MaxClients, SendQueueBytes: a session's unacknowledged
    %   bytes, SendPolicy, CloseTimeout, IdleTimeout: default 60 s, since silence is how a KCP
    %   session ends), or a libsock.EngineConfig.
    %
    %   KCP has no handshake and no close on the wire: a session opens with the first data of a
    %   new (address, conversation) ("connected") and ends when silent for IdleTimeout
    %   ("idle-timeout"), when its peer stops acknowledging ("heartbeat-lost"), on disconnect
    %   ("kicked") or shutdown ("server-shutdown", at once). stats(s) adds DatagramsIn,
    %   DatagramsOut, DatagramsBad and Retransmits.
    %
    %   Example (an echo server polled in a loop):
    %       s = libsock.KcpServer("127.0.0.1", 4000);
    %       for ev = waitEvents(s, 1)
    %           if ev.Kind == "message", send(s, ev.Client, ev.Data); end
    %       end
    %
    %   See also libsock.KcpSession, libsock.kcpConnect, libsock.Server.

    methods
        function obj = KcpServer(host, port, varargin)
            %KCPSERVER  Bind (see the class help).
            libsock.load();
            if nargin == 1 && isnumeric(host)
                port = host;
                host = "0.0.0.0";
            elseif nargin < 2
                port = [];
            elseif ~isnumeric(port)
                varargin = [{port}, varargin];
                port = [];
            end
            target = libsock.Socket.formatAddress(host, port);
            [kcpCfg, rest] = libsock.KcpSession.kcpConfigFrom(varargin);
            [cfg, owned] = libsock.Server.configFrom(rest);
            cfgHandle = int64(0);
            if ~isempty(cfg)
                cfgHandle = cfg.Handle;
            end
            out = libpointer(libsock.ptrtype('int64'), 0);
            rc = calllib('libsock', 'ls_kcp_server_bind', char(target), int64(cfgHandle), kcpCfg, out);
            if owned
                delete(cfg);
            end
            if kcpCfg ~= 0
                calllib('libsock', 'ls_close', kcpCfg);
            end
            libsock.check(rc);
            obj.Handle = out.Value;
            obj.Address = string(target);
        end

        function st = stats(obj)
            %STATS  The server's counters as a struct: Connections, ConnectionsTotal, Refused,
            %   BytesIn, BytesOut, MessagesIn, MessagesOut, EventsQueued, SendQueueFull, and
            %   KCP's DatagramsIn, DatagramsOut, DatagramsBad (not KCP, or a wrong
            %   conversation), Retransmits.
            st = libsock.KcpSession.counters(obj.Handle);
        end
    end
end
