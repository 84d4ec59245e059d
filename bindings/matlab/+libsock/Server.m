classdef Server < libsock.EngineObject
    %SERVER  A multi-client server run by libsock's engine, polled from MATLAB (a timer fits).
    %   MATLAB's own tcpserver serves one client. A libsock.Server accepts any number, reads and
    %   frames their messages, answers heartbeats and drops dead peers on libsock's threads;
    %   MATLAB takes what happened as events with poll (never waits) or waitEvents, and answers
    %   with send, broadcast and disconnect, which queue and return at once.
    %
    %   s = libsock.Server(HOST, PORT) listens on HOST ("0.0.0.0", "127.0.0.1", "::") and PORT
    %   (0 picks a free port: read s.Port). s = libsock.Server(PORT) listens on "0.0.0.0".
    %   s = libsock.Server("unix:/tmp/app.sock") listens on a Unix socket.
    %   s = libsock.Server(..., CFG) uses the settings of libsock.EngineConfig CFG;
    %   s = libsock.Server(..., Name, Value) makes one from EngineConfig Name, Value pairs.
    %   Messages are framed (default: a 4-byte big-endian length before each message; see
    %   libsock.EngineConfig/configureFraming).
    %
    %   Server properties:
    %       Port, LocalAddress  - where it listens
    %       Clients             - ids of the clients connected now (uint64 row)
    %       NumEventsAvailable, MessageBufferSize, Stopped (see libsock.EngineObject)
    %
    %   Server methods:
    %       poll, waitEvents  - take events (struct array: Kind, Client, Data, Peer, Reason ...)
    %       send              - queue one message to one client
    %       sendMany          - queue one message to several clients (encoded once)
    %       sendBatch         - queue several messages to one client (one wake-up)
    %       broadcast         - queue one message to every client (but one)
    %       disconnect        - drop a client, gracefully (after its queue) or at once
    %       clientAddress     - a client's address
    %       clientStats       - one client's counters (bytes, messages, queued, since, TLS)
    %       stats             - counters
    %       shutdown          - stop gracefully: deliver what is queued, then close
    %       close, delete     - stop at once and free the handle
    %
    %   Example (an echo server driven by a timer):
    %       s = libsock.Server("0.0.0.0", 5000);
    %       t = timer("ExecutionMode", "fixedSpacing", "Period", 0.05, ...
    %           "TimerFcn", @(~, ~) echoAll(s));
    %       start(t)
    %       % with, in echoAll.m:
    %       %   for ev = poll(s)
    %       %       if ev.Kind == "message", send(s, ev.Client, ev.Data); end
    %       %   end
    %
    %   Call libsock.shutdownEngine before libsock.unload (unload does it too).
    %
    %   See also libsock.Client, libsock.EngineConfig, libsock.EngineObject, libsock.Listener.

    properties (SetAccess = protected)
        %ADDRESS  The address asked for ("0.0.0.0:5000", "unix:/path").
        Address = ""
    end

    properties (Dependent, SetAccess = private)
        %PORT  The real local port (0 for Unix sockets).
        Port
        %LOCALADDRESS  The local address as text.
        LocalAddress
        %CLIENTS  Ids of the clients connected now, increasing (uint64 row vector).
        Clients
    end

    methods
        function obj = Server(host, port, varargin)
            %SERVER  Listen (see the class help).
            if nargin == 0
                return  % a subclass (libsock.KcpServer) makes the handle
            end
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
            [cfg, owned] = libsock.Server.configFrom(varargin);
            cfgHandle = int64(0);
            if ~isempty(cfg)
                cfgHandle = cfg.Handle;
            end
            out = libpointer(libsock.ptrtype('int64'), 0);
            rc = calllib('libsock', 'ls_server_listen', char(target), int64(cfgHandle), out);
            if owned
                delete(cfg);
            end
            libsock.check(rc);
            obj.Handle = out.Value;
            obj.Address = string(target);
        end

        function p = get.Port(obj)
            out = libpointer('int32Ptr', 0);
            rc = calllib('libsock', 'ls_local_port', obj.Handle, out);
            libsock.check(rc);
            p = double(out.Value);
        end

        function a = get.LocalAddress(obj)
            cap = double(libsock.LS_ADDRESS_MAX);
            [rc, a] = calllib('libsock', 'ls_local_address', obj.Handle, blanks(cap), uint64(cap), uint64(0));
            libsock.check(rc);
            a = string(a);
        end

        function ids = get.Clients(obj)
            cap = 0;
            while true
                [rc, ids, n] = calllib('libsock', 'ls_server_clients', obj.Handle, zeros(1, cap, 'uint64'), uint64(cap), uint64(0));
                if rc ~= libsock.LS_ERR_BUFFER_TOO_SMALL
                    break
                end
                cap = double(n) + 16;  % room for clients that arrive meanwhile
            end
            libsock.check(rc);
            ids = reshape(ids(1:double(n)), 1, []);
        end

        function send(obj, client, data, datatype)
            %SEND  Queue DATA as one message to client CLIENT; returns at once.
            %   send(s, CLIENT, DATA) sends numeric DATA as "uint8" and text as "char";
            %   send(s, CLIENT, DATA, DATATYPE) casts as libsock.TcpClient/write (little-endian).
            %   Throws 'libsock:closed' for a client that is gone and 'libsock:queueFull' when
            %   its send queue is full (SendPolicy "error").
            %
            %   Example:
            %       send(s, ev.Client, "hello")
            if nargin < 4
                datatype = [];
            end
            [bytes, n] = libsock.Socket.engineBytes(data, datatype);
            rc = calllib('libsock', 'ls_server_send', obj.Handle, uint64(client), bytes, uint64(n));
            libsock.check(rc);
        end

        function sent = broadcast(obj, data, datatype, exceptClient)
            %BROADCAST  Queue DATA as one message to every connected client; returns at once.
            %   SENT = broadcast(s, DATA) returns how many clients it was queued for (clients
            %   with a full queue are skipped under SendPolicy "error").
            %   broadcast(s, DATA, DATATYPE, EXCEPT) casts as send and skips client EXCEPT ([] for
            %   DATATYPE: the default).
            %
            %   Example:
            %       broadcast(s, "tick")
            if nargin < 3
                datatype = [];
            end
            if nargin < 4
                exceptClient = 0;
            end
            [bytes, n] = libsock.Socket.engineBytes(data, datatype);
            out = libpointer(libsock.ptrtype('size'), 0);
            rc = calllib('libsock', 'ls_server_broadcast', obj.Handle, bytes, uint64(n), uint64(exceptClient), out);
            libsock.check(rc);
            sent = double(out.Value);
        end

        function sent = sendMany(obj, clients, data, datatype)
            %SENDMANY  Queue DATA as one message to each client of CLIENTS (encoded once);
            %   returns at once. SENT = sendMany(s, CLIENTS, DATA) returns how many clients it was
            %   queued for: unknown clients, and under SendPolicy "error" clients whose queue is
            %   full, are skipped (no error). sendMany(s, CLIENTS, DATA, DATATYPE) casts as send.
            %   'libsock:frameTooLarge' when DATA is larger than SendQueueBytes.
            %
            %   Example:
            %       n = sendMany(s, [id1 id2], "to both")
            if nargin < 4
                datatype = [];
            end
            ids = uint64(reshape(clients, 1, []));
            count = numel(ids);
            if count == 0
                ids = uint64(0);  % MATLAB passes [] as NULL: one id and a count of 0
            end
            [bytes, n] = libsock.Socket.engineBytes(data, datatype);
            out = libpointer(libsock.ptrtype('size'), 0);
            rc = calllib('libsock', 'ls_server_send_many', obj.Handle, ids, uint64(count), bytes, uint64(n), out);
            libsock.check(rc);
            sent = double(out.Value);
        end

        function sent = sendBatch(obj, client, messages, datatype, timeout)
            %SENDBATCH  Queue several messages to client CLIENT in order, as one batch (one
            %   wake-up of the engine, written together).
            %   SENT = sendBatch(s, CLIENT, MESSAGES) takes a cell array (or string array) of
            %   messages, numeric as "uint8" and text as "char"; sendBatch(s, CLIENT, MESSAGES,
            %   DATATYPE, TIMEOUT) casts each as send and waits up to TIMEOUT seconds (default
            %   0: not at all) for room in the client's send queue. SENT is how many were queued:
            %   all, or fewer when the time ran out after some were; when not even the first
            %   could be, the error ('libsock:queueFull', 'libsock:timeout', 'libsock:closed').
            %   Every message is checked first: 'libsock:frameTooLarge' queues none.
            %
            %   Example:
            %       sendBatch(s, ev.Client, {"a", "b", "c"})
            if nargin < 4
                datatype = [];
            end
            if nargin < 5 || isempty(timeout)
                timeout = 0;
            end
            [bytes, lens, count] = libsock.Socket.packMessages(messages, datatype, "little-endian");
            out = libpointer(libsock.ptrtype('size'), 0);
            rc = calllib('libsock', 'ls_server_send_batch', obj.Handle, uint64(client), bytes, lens, uint64(count), int32(libsock.Socket.toMs(timeout)), out);
            libsock.check(rc);
            sent = double(out.Value);
        end

        function st = clientStats(obj, client)
            %CLIENTSTATS  One connected client's counters as a struct: BytesIn, BytesOut (frames
            %   with their headers), MessagesIn (heartbeats not counted), MessagesOut (heartbeats
            %   included), QueuedBytes (waiting in its send queue), ConnectedSince (when it was
            %   admitted, in seconds since 1970-01-01 UTC: datetime(st.ConnectedSince,
            %   "ConvertFrom", "posixtime") shows it) and Tls (true when it
            %   speaks TLS). 'libsock:closed' for a client that is gone.
            %
            %   Example:
            %       st = clientStats(s, ev.Client); fprintf("%d bytes in\n", st.BytesIn);
            names = {'BytesIn', 'BytesOut', 'MessagesIn', 'MessagesOut', 'QueuedBytes', ...
                'ConnectedSince', 'Tls'};
            codes = [libsock.LS_STAT_BYTES_IN, libsock.LS_STAT_BYTES_OUT, ...
                libsock.LS_STAT_MESSAGES_IN, libsock.LS_STAT_MESSAGES_OUT, ...
                libsock.LS_STAT_QUEUED_BYTES, libsock.LS_CLIENT_STAT_CONNECTED_SINCE_MS, ...
                libsock.LS_CLIENT_STAT_TLS];
            st = struct();
            for k = 1:numel(codes)
                out = libpointer(libsock.ptrtype('int64'), 0);
                rc = calllib('libsock', 'ls_server_client_stats', obj.Handle, uint64(client), int32(codes(k)), out);
                libsock.check(rc);
                st.(names{k}) = double(out.Value);
            end
            st.ConnectedSince = st.ConnectedSince / 1000;
            st.Tls = st.Tls ~= 0;
        end

        function disconnect(obj, client, graceful)
            %DISCONNECT  Drop client CLIENT; a "disconnected" event with Reason "kicked" follows.
            %   disconnect(s, CLIENT) delivers what is queued for it first (graceful);
            %   disconnect(s, CLIENT, false) cuts the connection at once.
            if nargin < 3
                graceful = true;
            end
            rc = calllib('libsock', 'ls_server_disconnect', obj.Handle, uint64(client), int32(logical(graceful)));
            libsock.check(rc);
        end

        function a = clientAddress(obj, client)
            %CLIENTADDRESS  The address of connected client CLIENT as text ("127.0.0.1:53012").
            cap = double(libsock.LS_ADDRESS_MAX);
            [rc, a] = calllib('libsock', 'ls_server_client_address', obj.Handle, uint64(client), blanks(cap), uint64(cap), uint64(0));
            libsock.check(rc);
            a = string(a);
        end

        function shutdown(obj, grace)
            %SHUTDOWN  Stop gracefully: no new clients, queued messages delivered within GRACE
            %   seconds (default 5), then every client is disconnected ("server-shutdown") and
            %   the final "closed" event is queued. Blocks until done. The remaining events can
            %   still be taken; delete or close frees the handle.
            if nargin < 2
                grace = 5;
            end
            ms = libsock.Socket.toMs(grace);
            if ms < 0
                ms = double(intmax('int32'));
            end
            rc = calllib('libsock', 'ls_server_shutdown', obj.Handle, int32(ms));
            libsock.check(rc);
        end
    end

    methods (Static, Hidden)
        function [cfg, owned] = configFrom(args)
            %CONFIGFROM  A libsock.EngineConfig from the constructor's trailing arguments: one
            %   given ({CFG}), one made from Name, Value pairs (OWNED true), or none ([]).
            owned = false;
            if isempty(args)
                cfg = [];
            elseif numel(args) == 1 && (isa(args{1}, 'libsock.EngineConfig') || isempty(args{1}))
                cfg = args{1};
            else
                cfg = libsock.EngineConfig(args{:});
                owned = true;
            end
        end

        function t = defaultType(data)
            %DEFAULTTYPE  "char" for text, else "uint8".
            if ischar(data) || isstring(data)
                t = "char";
            else
                t = "uint8";
            end
        end
    end
end
