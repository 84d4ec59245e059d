classdef Client < libsock.EngineObject
    %CLIENT  A long-lived, auto-reconnecting connection run by libsock's engine.
    %   c = libsock.Client(HOST, PORT) starts connecting to HOST:PORT in the background and
    %   returns at once; c = libsock.Client("unix:/tmp/app.sock") to a Unix socket.
    %   c = libsock.Client(..., CFG) uses libsock.EngineConfig CFG (reconnect backoff,
    %   heartbeat, framing ...); c = libsock.Client(..., Name, Value) makes one from
    %   EngineConfig Name, Value pairs.
    %
    %   When the connection is lost (or cannot be made) the client tries again with a growing
    %   delay (BackoffMin .. BackoffMax). Messages sent meanwhile wait in its send queue and are
    %   delivered once, in order, after it reconnects. Events ("connected", "message",
    %   "disconnected", "reconnecting", finally "closed") are taken with poll or waitEvents.
    %
    %   Client properties:
    %       Address             - the server's address as given
    %       Connected           - true while connected
    %       NumEventsAvailable, MessageBufferSize, Stopped (see libsock.EngineObject)
    %
    %   Client methods:
    %       send              - queue one message (also while reconnecting)
    %       sendBatch         - queue several messages at once (one wake-up)
    %       poll, waitEvents  - take events
    %       stats             - counters (FailedAttempts, QueuedBytes ...)
    %       close             - close(c, GRACE): deliver what is queued (connected) within
    %                           GRACE seconds and stop for good; close(c) stops at once and
    %                           frees the handle
    %       disconnect        - the former name of close(c, GRACE) (GRACE defaults to 5)
    %       delete            - stop at once and free the handle
    %
    %   Example:
    %       c = libsock.Client("127.0.0.1", 5000, "BackoffMax", 2);
    %       send(c, "hello");            % queued until connected
    %       ev = waitEvents(c, 5);       % "connected", then the reply as "message"
    %
    %   See also libsock.Server, libsock.EngineConfig, libsock.TcpClient.

    properties (SetAccess = private)
        %ADDRESS  The server's address as given ("127.0.0.1:5000", "unix:/path").
        Address = ""
    end

    properties (Dependent, SetAccess = private)
        %CONNECTED  True while the connection is up (ls_engine_stats LS_STAT_CONNECTIONS).
        Connected
    end

    methods
        function obj = Client(host, port, varargin)
            %CLIENT  Start connecting (see the class help).
            libsock.load();
            if nargin < 2
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
            rc = calllib('libsock', 'ls_client_connect', char(target), int64(cfgHandle), out);
            if owned
                delete(cfg);
            end
            libsock.check(rc);
            obj.Handle = out.Value;
            obj.Address = string(target);
        end

        function tf = get.Connected(obj)
            out = libpointer(libsock.ptrtype('int64'), 0);
            rc = calllib('libsock', 'ls_engine_stats', obj.Handle, int32(libsock.LS_STAT_CONNECTIONS), out);
            libsock.check(rc);
            tf = out.Value ~= 0;
        end

        function send(obj, data, datatype)
            %SEND  Queue DATA as one message; returns at once, also while reconnecting.
            %   send(c, DATA) sends numeric DATA as "uint8" and text as "char";
            %   send(c, DATA, DATATYPE) casts as libsock.TcpClient/write (little-endian).
            %   Throws 'libsock:queueFull' when the send queue (SendQueueBytes) is full and
            %   'libsock:closed' after disconnect.
            if nargin < 3
                datatype = [];
            end
            [bytes, n] = libsock.Socket.engineBytes(data, datatype);
            rc = calllib('libsock', 'ls_client_send', obj.Handle, bytes, uint64(n));
            libsock.check(rc);
        end

        function sent = sendBatch(obj, messages, datatype, timeout)
            %SENDBATCH  Queue several messages in order, as one batch (one wake-up of the
            %   engine); while disconnected they wait in the queue. SENT = sendBatch(c,
            %   MESSAGES, DATATYPE, TIMEOUT): as libsock.Server/sendBatch, without the client.
            %
            %   Example:
            %       sendBatch(c, {"one", "two"})
            if nargin < 3
                datatype = [];
            end
            if nargin < 4 || isempty(timeout)
                timeout = 0;
            end
            [bytes, lens, count] = libsock.Socket.packMessages(messages, datatype, "little-endian");
            out = libpointer(libsock.ptrtype('size'), 0);
            rc = calllib('libsock', 'ls_client_send_batch', obj.Handle, bytes, lens, uint64(count), int32(libsock.Socket.toMs(timeout)), out);
            libsock.check(rc);
            sent = double(out.Value);
        end

        function close(obj, grace)
            %CLOSE  close(c, GRACE) stops for good gracefully: while connected, what is queued
            %   is delivered within GRACE seconds, then the connection closes ("disconnected"
            %   with Reason "closed", then "closed"); the handle stays valid for the last events
            %   (the close(grace) of every door, docs/NAMES.md). close(c) stops at once and frees
            %   the handle, as for every engine object.
            if nargin < 2
                close@libsock.EngineObject(obj);
            else
                disconnect(obj, grace);
            end
        end

        function disconnect(obj, grace)
            %DISCONNECT  The former name of close(c, GRACE) (GRACE defaults to 5 here): while
            %   connected, what is queued is delivered within GRACE seconds, then the connection
            %   closes ("disconnected" with Reason "closed", then "closed"). Blocks until done;
            %   the handle stays valid for the last events until close or delete.
            if nargin < 2
                grace = 5;
            end
            ms = libsock.Socket.toMs(grace);
            if ms < 0
                ms = double(intmax('int32'));
            end
            rc = calllib('libsock', 'ls_client_close', obj.Handle, int32(ms));
            libsock.check(rc);
        end
    end
end
