classdef KcpSession < libsock.Socket
    %KCPSESSION  A KCP session (reliable, ordered messages over UDP) with a KCP server: the
    %   libsock.KcpServer, or any peer speaking KCP (the reference implementation, ikcp.c).
    %   k = libsock.KcpSession(HOST, PORT) or k = libsock.kcpConnect(HOST, PORT) opens one over
    %   a connected UDP socket; nothing is sent until the first message (KCP has no handshake).
    %   Name, Value: "Conv" (the conversation id, 0..4294967295; default a random one),
    %   "Timeout" (seconds recv, send and flush wait; default Inf), "ByteOrder", and the KCP
    %   tuning (the reference implementation's words; both ends should agree on Mtu and
    %   Stream): "Nodelay" (0, 1, 2; default 2), "Interval" (s, 0.01 default), "Resend" (fast
    %   resend after that many duplicate acks, 0 off; default 2), "Nc" (no congestion control,
    %   default true), "SendWindow", "RecvWindow" (segments, default 128), "Mtu" (1400),
    %   "MinRto" (s), "Stream" (no message boundaries), "DeadLink" (unacknowledged sends before
    %   the session fails, default 20).
    %
    %   The session runs only while one of its calls runs (MATLAB has one thread): wait in recv
    %   or call poll now and then (from a timer, say) so that the peer's data is acknowledged.
    %
    %   KcpSession properties:
    %       Conv          - the conversation id
    %       PeerAddress   - the server's address
    %       Timeout, ByteOrder, LocalAddress, LocalPort (see libsock.Socket)
    %
    %   KcpSession methods:
    %       send          - queue one message (waits while too much is unacknowledged)
    %       recv          - the next message
    %       flush         - wait until everything sent is acknowledged
    %       poll          - run the protocol for a while; true when a message is ready
    %       stats         - counters (bytes, messages, datagrams, retransmits, RTT)
    %       close, delete - close the session (unacknowledged data is abandoned: flush first)
    %
    %   Example:
    %       k = libsock.kcpConnect("127.0.0.1", 4000, "Timeout", 5);
    %       send(k, "hello");
    %       reply = recv(k, "char");
    %
    %   See also libsock.kcpConnect, libsock.KcpServer.

    properties (Dependent, SetAccess = private)
        %CONV  The conversation id of the session.
        Conv
        %PEERADDRESS  The server's address as text ("127.0.0.1:4000").
        PeerAddress
    end

    properties
        %MESSAGEBUFFERSIZE  Bytes recv first offers the library (default 65536). A larger
        %   message is not lost: the library reports its size and recv asks again.
        MessageBufferSize = 65536
    end

    methods
        function obj = KcpSession(host, port, varargin)
            %KCPSESSION  Open a session (see the class help).
            libsock.load();
            if nargin < 2
                port = [];
            elseif ischar(port) || isstring(port)
                varargin = [{port}, varargin];
                port = [];
            end
            [kcpCfg, rest] = libsock.KcpSession.kcpConfigFrom(varargin);
            opts = struct('Conv', [], 'Timeout', Inf, 'ByteOrder', "little-endian");
            for k = 1:2:numel(rest)
                name = validatestring(rest{k}, fieldnames(opts));
                opts.(name) = rest{k + 1};
            end
            conv = libsock.LS_KCP_CONV_RANDOM;
            if ~isempty(opts.Conv)
                conv = opts.Conv;
            end
            target = libsock.Socket.formatAddress(host, port);
            out = libpointer(libsock.ptrtype('int64'), 0);
            rc = calllib('libsock', 'ls_kcp_connect', char(target), int64(conv), kcpCfg, int64(0), out);
            if kcpCfg ~= 0
                calllib('libsock', 'ls_close', kcpCfg);
            end
            libsock.check(rc);
            obj.Handle = out.Value;
            obj.Timeout = opts.Timeout;
            obj.ByteOrder = opts.ByteOrder;
        end

        function c = get.Conv(obj)
            out = libpointer(libsock.ptrtype('int64'), 0);
            libsock.check(calllib('libsock', 'ls_kcp_conv', obj.Handle, out));
            c = double(out.Value);
        end

        function a = get.PeerAddress(obj)
            cap = double(libsock.LS_ADDRESS_MAX);
            [rc, a] = calllib('libsock', 'ls_peer_address', obj.Handle, blanks(cap), uint64(cap), uint64(0));
            libsock.check(rc);
            a = string(a);
        end

        function send(obj, data, datatype)
            %SEND  Queue DATA as one message (in stream mode: bytes).
            %   send(k, DATA) sends numeric DATA as "uint8" and text as "char"; send(k, DATA,
            %   DATATYPE) casts as libsock.TcpClient/write. Waits up to Timeout while too much
            %   is unacknowledged ('libsock:timeout': nothing was queued). An empty message is
            %   'libsock:invalidArgument', one too large for 127 fragments
            %   'libsock:frameTooLarge', a peer that stopped acknowledging
            %   'libsock:connectionAborted'.
            if nargin < 3
                datatype = libsock.Server.defaultType(data);
            end
            bytes = libsock.Socket.toBytes(data, datatype, obj.ByteOrder);
            n = numel(bytes);
            if n == 0
                bytes = uint8(0);  % the library refuses the empty message itself
            end
            rc = calllib('libsock', 'ls_kcp_send', obj.Handle, int32(libsock.LS_TIMEOUT_DEFAULT), bytes, uint64(n));
            libsock.check(rc);
        end

        function data = recv(obj, datatype)
            %RECV  The next message (stream mode: the bytes that arrived), waiting up to
            %   Timeout ('libsock:timeout' when none came). DATA = recv(k) as uint8,
            %   recv(k, DATATYPE) as libsock.TcpClient/read converts.
            if nargin < 2
                datatype = "uint8";
            end
            cap = obj.MessageBufferSize;
            buf = libpointer('uint8Ptr', zeros(1, cap, 'uint8'));
            out = libpointer(libsock.ptrtype('size'), 0);
            rc = calllib('libsock', 'ls_kcp_recv', obj.Handle, int32(libsock.LS_TIMEOUT_DEFAULT), buf, uint64(cap), out);
            if rc == libsock.LS_ERR_BUFFER_TOO_SMALL
                cap = double(out.Value);  % the message's size; it stays for this call
                buf = libpointer('uint8Ptr', zeros(1, cap, 'uint8'));
                rc = calllib('libsock', 'ls_kcp_recv', obj.Handle, int32(libsock.LS_TIMEOUT_DEFAULT), buf, uint64(cap), out);
            end
            libsock.check(rc);
            bytes = buf.Value;
            data = libsock.Socket.fromBytes(bytes(1:double(out.Value)), datatype, obj.ByteOrder);
        end

        function flush(obj, timeout)
            %FLUSH  Wait until everything sent is acknowledged by the peer: up to TIMEOUT
            %   seconds (default: Timeout); 'libsock:timeout' when it was not.
            if nargin < 2
                ms = libsock.LS_TIMEOUT_DEFAULT;
            else
                ms = libsock.Socket.toMs(timeout);
            end
            rc = calllib('libsock', 'ls_kcp_flush', obj.Handle, int32(ms));
            libsock.check(rc);
        end

        function ready = poll(obj, timeout)
            %POLL  Run the protocol for TIMEOUT seconds (default 0: what is due now) without
            %   taking messages (acknowledge, retransmit, read the socket); true when a message
            %   is ready for recv.
            if nargin < 2
                timeout = 0;
            end
            if isinf(timeout)
                error('libsock:invalidArgument', 'poll: TIMEOUT must be finite (seconds >= 0)');
            end
            out = libpointer(libsock.ptrtype('size'), 0);
            rc = calllib('libsock', 'ls_kcp_poll', obj.Handle, int32(libsock.Socket.toMs(timeout)), out);
            libsock.check(rc);
            ready = out.Value ~= 0;
        end

        function st = stats(obj)
            %STATS  The session's counters as a struct: BytesIn, BytesOut, MessagesIn,
            %   MessagesOut, DatagramsIn, DatagramsOut, DatagramsBad, Retransmits, Waiting
            %   (segments unacknowledged), Srtt (the smoothed round trip, seconds).
            st = libsock.KcpSession.counters(obj.Handle);
        end
    end

    methods (Static, Hidden)
        function [h, rest] = kcpConfigFrom(args)
            %KCPCONFIGFROM  A KCP config handle (0: none) from the KCP tuning among Name, Value
            %   ARGS; REST are the other pairs. Times in seconds.
            names = {'Nodelay', 'Interval', 'Resend', 'Nc', 'SendWindow', 'RecvWindow', 'Mtu', ...
                'MinRto', 'Stream', 'DeadLink', 'Linger'};
            keys = [libsock.LS_KCP_NODELAY, libsock.LS_KCP_INTERVAL_MS, libsock.LS_KCP_RESEND, ...
                libsock.LS_KCP_NC, libsock.LS_KCP_SEND_WINDOW, libsock.LS_KCP_RECV_WINDOW, ...
                libsock.LS_KCP_MTU, libsock.LS_KCP_MIN_RTO_MS, libsock.LS_KCP_STREAM, ...
                libsock.LS_KCP_DEAD_LINK, libsock.LS_KCP_LINGER_MS];
            seconds = [false, true, false, false, false, false, false, true, false, false, true];
            h = int64(0);
            rest = {};
            if mod(numel(args), 2) ~= 0
                error('libsock:invalidArgument', 'Name, Value pairs expected');
            end
            for k = 1:2:numel(args)
                j = [];
                if ischar(args{k}) || isstring(args{k})
                    j = find(strcmpi(char(args{k}), names), 1);
                end
                if isempty(j)
                    rest = [rest, args(k:k + 1)]; %#ok<AGROW>
                    continue
                end
                if h == 0
                    out = libpointer(libsock.ptrtype('int64'), 0);
                    libsock.check(calllib('libsock', 'ls_kcp_config_new', out));
                    h = out.Value;
                end
                v = double(args{k + 1});
                if seconds(j)
                    v = round(v * 1000);
                end
                rc = calllib('libsock', 'ls_kcp_config_set', h, int32(keys(j)), int64(v));
                if rc ~= 0
                    calllib('libsock', 'ls_close', h);
                end
                libsock.check(rc);
            end
        end

        function st = counters(handle)
            %COUNTERS  ls_engine_stats of a KCP server or session as a struct: the LS_STAT_*
            %   and LS_KCP_STAT_* counters it keeps (SrttMs as Srtt in seconds).
            names = {'Connections', 'ConnectionsTotal', 'Refused', 'BytesIn', 'BytesOut', ...
                'MessagesIn', 'MessagesOut', 'EventsQueued', 'SendQueueFull', 'DatagramsIn', ...
                'DatagramsOut', 'DatagramsBad', 'Retransmits', 'Waiting', 'Srtt'};
            codes = [libsock.LS_STAT_CONNECTIONS, libsock.LS_STAT_CONNECTIONS_TOTAL, ...
                libsock.LS_STAT_REFUSED, libsock.LS_STAT_BYTES_IN, libsock.LS_STAT_BYTES_OUT, ...
                libsock.LS_STAT_MESSAGES_IN, libsock.LS_STAT_MESSAGES_OUT, ...
                libsock.LS_STAT_EVENTS_QUEUED, libsock.LS_STAT_SEND_QUEUE_FULL, ...
                libsock.LS_KCP_STAT_DATAGRAMS_IN, libsock.LS_KCP_STAT_DATAGRAMS_OUT, ...
                libsock.LS_KCP_STAT_DATAGRAMS_BAD, libsock.LS_KCP_STAT_RETRANSMITS, ...
                libsock.LS_KCP_STAT_WAITING, libsock.LS_KCP_STAT_SRTT_MS];
            st = struct();
            for k = 1:numel(codes)
                out = libpointer(libsock.ptrtype('int64'), 0);
                rc = calllib('libsock', 'ls_engine_stats', handle, int32(codes(k)), out);
                if rc == libsock.LS_ERR_UNSUPPORTED
                    continue
                end
                libsock.check(rc);
                st.(names{k}) = double(out.Value);
            end
            if isfield(st, 'Srtt')
                st.Srtt = st.Srtt / 1000;
            end
        end
    end
end
