classdef EngineConfig < handle
    %ENGINECONFIG  Settings for a libsock.Server or libsock.Client (an engine config of the C ABI).
    %   cfg = libsock.EngineConfig() holds the defaults; cfg = libsock.EngineConfig(Name, Value,
    %   ...) sets properties at once. Each property is stored in the library at once
    %   (ls_engine_config_set) and read back from it, so a value its type cannot hold throws
    %   'libsock:invalidArgument' where it is set, and unset properties show the defaults.
    %   Values that make no sense (a zero queue bound, MaxClients 0, a heartbeat under 10 ms,
    %   BackoffMin above BackoffMax ...) throw 'libsock:invalidArgument' when the server or
    %   client is made, with the same message as in every language.
    %   Settings that do not apply to an object are ignored, so one config can serve a server
    %   and its clients. A server or client takes a copy: changing cfg later changes nothing
    %   for objects already made.
    %
    %   EngineConfig properties (times in seconds):
    %       MaxClients         - server: most clients at once, -1 = no limit (default); 0 is
    %                            refused when the server is made
    %       SendQueueBytes     - bound of each send queue in bytes (default 4 MiB)
    %       SendPolicy         - server, full send queue: "error" (send throws
    %                            'libsock:queueFull', the default) or "disconnect" (the slow
    %                            client is dropped with reason "send-queue-full")
    %       EventCapacity      - events queued before the engine stops reading (default 4096)
    %       IdleTimeout        - close a connection silent this long, 0 = never (default)
    %       IdleMode           - what counts as activity: "reads" (default) or "reads-and-writes"
    %       HeartbeatInterval  - ping after this much silence (sub-second is fine, at least
    %                            0.01); 0 (default) only answers the peer's pings, -1 turns
    %                            heartbeats off
    %       HeartbeatMisses    - silent intervals before "heartbeat-lost" (default 3)
    %       Reconnect          - client: reconnect after a lost connection (default true)
    %       BackoffMin         - client: first retry delay (default 0.1, at least 0.01);
    %                            doubles per attempt
    %       BackoffMax         - client: longest retry delay (default 10)
    %       MaxAttempts        - client: give up after this many failures in a row, 0 = never
    %       ConnectTimeout     - client: time limit of one connect attempt (default 10)
    %       Jitter             - client: randomize retry delays (default true)
    %       Backlog            - server: listen backlog (default 1024)
    %       CloseTimeout       - server: how long a graceful disconnect may flush (default 5)
    %       MaxDatagram        - datagram server: largest datagram received whole (1-65536)
    %       RemoveStale        - server on a Unix path: remove a stale socket file first
    %                            (default false)
    %
    %   The properties are core's engine settings (LS_ECFG_*, docs/NAMES.md) in PascalCase,
    %   times in seconds without the _MS of the key.
    %
    %   EngineConfig methods:
    %       configureFraming  - the message framing (default: 4-byte big-endian length prefix)
    %       setOption         - a socket option for every connection ("NoDelay", ...)
    %       configureTls      - speak TLS (a libsock.TlsConfig)
    %       configureProxy    - client: connect through a SOCKS5 or HTTP proxy ("Proxy", URL
    %                           as a Name, Value pair does the same)
    %       close, delete     - free the config (objects made with it keep their copy)
    %
    %   Example:
    %       cfg = libsock.EngineConfig("MaxClients", 100, "HeartbeatInterval", 0.5);
    %       configureFraming(cfg, "delimited", [13 10]);
    %       s = libsock.Server("0.0.0.0", 5000, cfg);
    %
    %   See also libsock.Server, libsock.Client.

    properties (SetAccess = private, Hidden)
        %HANDLE  The C ABI handle of the config (int64); 0 once closed.
        Handle = int64(0)
    end

    properties (Dependent)
        %MAXCLIENTS  Server: most clients at once (-1 = no limit; 0 is refused).
        MaxClients
        %SENDQUEUEBYTES  Bound of each send queue in bytes.
        SendQueueBytes
        %SENDPOLICY  "error" or "disconnect": what a full send queue does.
        SendPolicy
        %EVENTCAPACITY  Events queued before the engine stops reading sockets.
        EventCapacity
        %IDLETIMEOUT  Seconds of silence before a connection is closed (0 = never).
        IdleTimeout
        %IDLEMODE  "reads" or "reads-and-writes": what the idle timeout counts as activity.
        IdleMode
        %HEARTBEATINTERVAL  Seconds of silence before a ping (0: only answer, -1: off).
        HeartbeatInterval
        %HEARTBEATMISSES  Silent heartbeat intervals before the peer is declared dead.
        HeartbeatMisses
        %RECONNECT  Client: reconnect after a failed attempt or a lost connection.
        Reconnect
        %BACKOFFMIN  Client: first retry delay in seconds.
        BackoffMin
        %BACKOFFMAX  Client: longest retry delay in seconds.
        BackoffMax
        %MAXATTEMPTS  Client: failed attempts in a row before giving up (0 = never).
        MaxAttempts
        %CONNECTTIMEOUT  Client: seconds one connect attempt may take.
        ConnectTimeout
        %JITTER  Client: randomize each retry delay within [delay/2, delay].
        Jitter
        %BACKLOG  Server: listen backlog.
        Backlog
        %CLOSETIMEOUT  Server: seconds a graceful disconnect may flush.
        CloseTimeout
        %MAXDATAGRAM  Datagram server: largest datagram received whole, in bytes.
        MaxDatagram
        %REMOVESTALE  Server on a Unix path: remove a stale socket file first.
        RemoveStale
    end

    methods
        function obj = EngineConfig(varargin)
            %ENGINECONFIG  Create a config (see the class help); Name, Value pairs set properties.
            libsock.load();
            out = libpointer(libsock.ptrtype('int64'), 0);
            rc = calllib('libsock', 'ls_engine_config_new', out);
            libsock.check(rc);
            obj.Handle = out.Value;
            names = libsock.EngineConfig.propertyNames();
            for k = 1:2:numel(varargin)
                if (ischar(varargin{k}) || isstring(varargin{k})) && strcmpi(char(varargin{k}), 'Proxy')
                    configureProxy(obj, varargin{k + 1});
                    continue
                end
                name = validatestring(varargin{k}, names);
                obj.(name) = varargin{k + 1};
            end
        end

        function configureProxy(obj, url)
            %CONFIGUREPROXY  Connect a libsock.Client through a proxy: URL is
            %   "socks5://[user:password@]host[:port]" (socks5h:// too; port 1080 by default) or
            %   "http://[user:password@]host[:port]" (HTTP CONNECT); "" removes it. The URL is
            %   checked here ('libsock:invalidArgument' naming what is wrong, never the
            %   password). Every attempt, reconnects included, goes through the proxy; a refusal
            %   by the proxy is a failed attempt like any other (a "disconnected" event whose
            %   Detail says what the proxy answered). Servers ignore it. The Name, Value pair
            %   "Proxy", URL of libsock.EngineConfig and libsock.Client does the same.
            %
            %   Example:
            %       c = libsock.Client("db.internal", 5000, "Proxy", "socks5://127.0.0.1:1080");
            rc = calllib('libsock', 'ls_engine_config_set_proxy', obj.Handle, char(url));
            libsock.check(rc);
        end

        function v = get.MaxClients(obj)
            v = getKey(obj, libsock.LS_ECFG_MAX_CLIENTS);
        end
        function set.MaxClients(obj, v)
            setKey(obj, libsock.LS_ECFG_MAX_CLIENTS, v);
        end
        function v = get.SendQueueBytes(obj)
            v = getKey(obj, libsock.LS_ECFG_SEND_QUEUE_BYTES);
        end
        function set.SendQueueBytes(obj, v)
            setKey(obj, libsock.LS_ECFG_SEND_QUEUE_BYTES, v);
        end
        function v = get.SendPolicy(obj)
            if getKey(obj, libsock.LS_ECFG_SEND_POLICY) == libsock.LS_SEND_POLICY_DISCONNECT
                v = string('disconnect');
            else
                v = string('error');
            end
        end
        function set.SendPolicy(obj, v)
            if isnumeric(v)
                code = v;
            elseif strcmp(validatestring(v, {'error', 'disconnect'}), 'disconnect')
                code = libsock.LS_SEND_POLICY_DISCONNECT;
            else
                code = libsock.LS_SEND_POLICY_ERROR;
            end
            setKey(obj, libsock.LS_ECFG_SEND_POLICY, code);
        end
        function v = get.EventCapacity(obj)
            v = getKey(obj, libsock.LS_ECFG_EVENT_CAPACITY);
        end
        function set.EventCapacity(obj, v)
            setKey(obj, libsock.LS_ECFG_EVENT_CAPACITY, v);
        end
        function v = get.IdleTimeout(obj)
            v = getKey(obj, libsock.LS_ECFG_IDLE_TIMEOUT_MS) / 1000;
        end
        function set.IdleTimeout(obj, v)
            setKey(obj, libsock.LS_ECFG_IDLE_TIMEOUT_MS, round(v * 1000));
        end
        function v = get.IdleMode(obj)
            if getKey(obj, libsock.LS_ECFG_IDLE_MODE) == libsock.LS_IDLE_READS_AND_WRITES
                v = string('reads-and-writes');
            else
                v = string('reads');
            end
        end
        function set.IdleMode(obj, v)
            if isnumeric(v)
                code = v;
            elseif strcmp(validatestring(v, {'reads', 'reads-and-writes'}), 'reads-and-writes')
                code = libsock.LS_IDLE_READS_AND_WRITES;
            else
                code = libsock.LS_IDLE_READS;
            end
            setKey(obj, libsock.LS_ECFG_IDLE_MODE, code);
        end
        function v = get.HeartbeatInterval(obj)
            v = getKey(obj, libsock.LS_ECFG_HEARTBEAT_INTERVAL_MS);
            if v > 0
                v = v / 1000;
            end
        end
        function set.HeartbeatInterval(obj, v)
            if v > 0
                v = max(1, round(v * 1000));
            end
            setKey(obj, libsock.LS_ECFG_HEARTBEAT_INTERVAL_MS, v);
        end
        function v = get.HeartbeatMisses(obj)
            v = getKey(obj, libsock.LS_ECFG_HEARTBEAT_MISSES);
        end
        function set.HeartbeatMisses(obj, v)
            setKey(obj, libsock.LS_ECFG_HEARTBEAT_MISSES, v);
        end
        function v = get.Reconnect(obj)
            v = getKey(obj, libsock.LS_ECFG_RECONNECT) ~= 0;
        end
        function set.Reconnect(obj, v)
            setKey(obj, libsock.LS_ECFG_RECONNECT, double(logical(v)));
        end
        function v = get.BackoffMin(obj)
            v = getKey(obj, libsock.LS_ECFG_BACKOFF_MIN_MS) / 1000;
        end
        function set.BackoffMin(obj, v)
            setKey(obj, libsock.LS_ECFG_BACKOFF_MIN_MS, round(v * 1000));
        end
        function v = get.BackoffMax(obj)
            v = getKey(obj, libsock.LS_ECFG_BACKOFF_MAX_MS) / 1000;
        end
        function set.BackoffMax(obj, v)
            setKey(obj, libsock.LS_ECFG_BACKOFF_MAX_MS, round(v * 1000));
        end
        function v = get.MaxAttempts(obj)
            v = getKey(obj, libsock.LS_ECFG_MAX_ATTEMPTS);
        end
        function set.MaxAttempts(obj, v)
            setKey(obj, libsock.LS_ECFG_MAX_ATTEMPTS, v);
        end
        function v = get.ConnectTimeout(obj)
            v = getKey(obj, libsock.LS_ECFG_CONNECT_TIMEOUT_MS) / 1000;
        end
        function set.ConnectTimeout(obj, v)
            setKey(obj, libsock.LS_ECFG_CONNECT_TIMEOUT_MS, round(v * 1000));
        end
        function v = get.Jitter(obj)
            v = getKey(obj, libsock.LS_ECFG_JITTER) ~= 0;
        end
        function set.Jitter(obj, v)
            setKey(obj, libsock.LS_ECFG_JITTER, double(logical(v)));
        end
        function v = get.Backlog(obj)
            v = getKey(obj, libsock.LS_ECFG_BACKLOG);
        end
        function set.Backlog(obj, v)
            setKey(obj, libsock.LS_ECFG_BACKLOG, v);
        end
        function v = get.CloseTimeout(obj)
            v = getKey(obj, libsock.LS_ECFG_CLOSE_TIMEOUT_MS) / 1000;
        end
        function set.CloseTimeout(obj, v)
            setKey(obj, libsock.LS_ECFG_CLOSE_TIMEOUT_MS, round(v * 1000));
        end
        function v = get.MaxDatagram(obj)
            v = getKey(obj, libsock.LS_ECFG_MAX_DATAGRAM);
        end
        function set.MaxDatagram(obj, v)
            setKey(obj, libsock.LS_ECFG_MAX_DATAGRAM, v);
        end
        function v = get.RemoveStale(obj)
            v = getKey(obj, libsock.LS_ECFG_REMOVE_STALE) ~= 0;
        end
        function set.RemoveStale(obj, v)
            setKey(obj, libsock.LS_ECFG_REMOVE_STALE, double(logical(v)));
        end

        function configureFraming(obj, kind, varargin)
            %CONFIGUREFRAMING  The framing of the connections made with this config.
            %   Arguments as libsock.Socket/configureFraming: "length" (WIDTH, ORDER, MAX, and
            %   "Offset", "HeaderLen", "Adjustment", "KeepHeader" for a longer header; the
            %   default is "length", 4, "big-endian"), "delimited" (DELIM, MAX, KEEP), "fixed"
            %   (SIZE), "hppack" (FLAG, MAX) or "raw" (each read is one message). Heartbeats
            %   need a message framing.
            %
            %   Example:
            %       configureFraming(cfg, "length", 2, "little-endian")
            libsock.Socket.setFraming(obj.Handle, kind, varargin{:});
        end

        function configureTls(obj, tls)
            %CONFIGURETLS  Speak TLS: a server libsock.TlsConfig for libsock.Server, a client one
            %   for libsock.Client (one of each may be set), as its settings are now; [] turns
            %   TLS off. Handshakes run on the engine: a failed one is a server "warning" event
            %   (Value LS_ERR_TLS) or a client "disconnected" event with Reason "tls", counted
            %   in stats(...).TlsFailures.
            %
            %   Example:
            %       configureTls(cfg, libsock.TlsConfig("server", "CertFile", "c.pem", "KeyFile", "k.pem"))
            h = int64(0);
            if ~isempty(tls)
                h = tls.Handle;
            end
            rc = calllib('libsock', 'ls_engine_config_set_tls', obj.Handle, int64(h));
            libsock.check(rc);
        end

        function setOption(obj, option, value)
            %SETOPTION  A socket option for every connection made with this config.
            %   Names as libsock.Socket/setOption ("NoDelay" is on by default).
            code = libsock.Socket.optionCode(option);
            rc = calllib('libsock', 'ls_set_option', obj.Handle, int32(code), int64(value));
            libsock.check(rc);
        end

        function close(obj)
            %CLOSE  Free the config (ls_close); servers and clients made with it keep running.
            h = obj.Handle;
            obj.Handle = int64(0);
            rc = calllib('libsock', 'ls_close', h);
            libsock.check(rc);
        end

        function delete(obj)
            %DELETE  Free the config when the object goes away.
            if obj.Handle ~= 0 && libisloaded('libsock')
                calllib('libsock', 'ls_close', obj.Handle);
                obj.Handle = int64(0);
            end
        end
    end

    methods (Access = private)
        function setKey(obj, key, value)
            %SETKEY  ls_engine_config_set(KEY, VALUE).
            if ~isscalar(value) || ~isreal(value) || isnan(double(value))
                error('libsock:invalidArgument', 'an engine setting is a real number');
            end
            rc = calllib('libsock', 'ls_engine_config_set', obj.Handle, int32(key), int64(value));
            libsock.check(rc);
        end

        function v = getKey(obj, key)
            %GETKEY  ls_engine_config_get(KEY) as a double.
            out = libpointer(libsock.ptrtype('int64'), 0);
            rc = calllib('libsock', 'ls_engine_config_get', obj.Handle, int32(key), out);
            libsock.check(rc);
            v = double(out.Value);
        end
    end

    methods (Static, Hidden)
        function names = propertyNames()
            %PROPERTYNAMES  The settings a constructor Name, Value pair may name.
            names = {'MaxClients', 'SendQueueBytes', 'SendPolicy', 'EventCapacity', ...
                'IdleTimeout', 'IdleMode', 'HeartbeatInterval', 'HeartbeatMisses', ...
                'Reconnect', 'BackoffMin', 'BackoffMax', 'MaxAttempts', 'ConnectTimeout', ...
                'Jitter', 'Backlog', 'CloseTimeout', 'MaxDatagram', 'RemoveStale'};
        end
    end
end
