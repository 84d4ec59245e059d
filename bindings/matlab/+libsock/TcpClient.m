classdef TcpClient < libsock.Socket
    %TCPCLIENT  A TCP (or Unix stream) connection, used like MATLAB's own tcpclient.
    %   t = libsock.TcpClient(HOST, PORT) connects to HOST:PORT (a name, an IPv4 or an IPv6
    %   address) and waits up to ConnectTimeout seconds (default 10).
    %   t = libsock.TcpClient("unix:/tmp/app.sock") connects to a Unix socket; any complete
    %   libsock address ("host:port", "[::1]:5000") works as the single argument.
    %   t = libsock.TcpClient(..., Name, Value) sets "ConnectTimeout", "Timeout" (seconds a
    %   read waits, default Inf), "ByteOrder" and "Terminator" at once; "Tls" with a client
    %   libsock.TlsConfig speaks TLS (the handshake completes before the constructor returns;
    %   tlsInfo tells what was agreed). "Proxy" connects through a proxy:
    %   "socks5://[user:password@]host[:port]" (socks5h:// too; port 1080 by default) or
    %   "http://[user:password@]host[:port]" (HTTP CONNECT); the proxy resolves HOST, TLS runs
    %   end to end with HOST, and a refusal by the proxy is the error of that refusal
    %   ('libsock:connectionRefused' ...), its message saying what the proxy answered.
    %
    %   Unlike tcpclient, a read that runs out of time throws 'libsock:timeout' instead of
    %   returning part of the data with a warning; the bytes that did arrive stay buffered for
    %   the next read, so nothing is lost.
    %
    %   TcpClient properties:
    %       Address, Port      - the remote end as given (or as accepted)
    %       ConnectTimeout     - seconds the connect was allowed
    %       NumBytesAvailable  - bytes that can be read now without waiting
    %       NumBytesWritten    - bytes written so far
    %       Terminator         - line terminator of readline/writeline ("LF", "CR", "CR/LF")
    %       Timeout, ByteOrder, LocalAddress, LocalPort (see libsock.Socket)
    %       MessageBufferSize  - first buffer readmsg tries (it grows to any message's size)
    %       MaxLineLength      - longest line readline accepts
    %
    %   TcpClient methods:
    %       read, write            - values of a datatype ("uint8", "int16", "double", "char" ...)
    %       readline, writeline    - text lines (UTF-8) ended by the Terminator
    %       configureTerminator    - set the read and write terminators
    %       configureFraming       - message framing for writemsg/readmsg (length, delimited ...)
    %       writemsg, readmsg      - one framed message each way
    %       sendMsgs, recvMsgs     - several framed messages in one call
    %       sendFile, recvFile     - a file's bytes (sendfile(2)), into a file
    %       flush                  - discard input not read yet
    %       shutdown               - half-close ("write": the peer reads end of stream)
    %       setOption, getOption   - socket options ("NoDelay", "KeepAlive", buffer sizes ...)
    %       tlsInfo                - what the TLS handshake agreed on
    %       close, delete          - close the connection
    %
    %   Example:
    %       t = libsock.TcpClient("127.0.0.1", 5000, "Timeout", 5);
    %       write(t, [1 2 3], "int16");
    %       x = read(t, 3, "int16");
    %       writeline(t, "hello");
    %       reply = readline(t);
    %       clear t   % closes the connection
    %
    %   See also libsock.Listener, libsock.Udp, libsock.Socket, tcpclient.

    properties (SetAccess = private)
        %ADDRESS  The remote host as given to the constructor (or the peer's address).
        Address = ""
        %PORT  The remote port (0 for Unix sockets).
        Port = 0
        %CONNECTTIMEOUT  Seconds the connect was allowed to take.
        ConnectTimeout = 10
        %NUMBYTESWRITTEN  Bytes written by write, writeline and writemsg (framing excluded).
        NumBytesWritten = 0
    end

    properties (Dependent)
        %NUMBYTESAVAILABLE  Bytes that can be read now without waiting (ls_bytes_available).
        NumBytesAvailable
        %TERMINATOR  Line terminator: "LF" (default), "CR", "CR/LF" or a byte value 0..255;
        %   a 1x2 cell {read, write} when configureTerminator gave two different ones.
        Terminator
    end

    properties
        %MESSAGEBUFFERSIZE  Bytes readmsg first offers the library (default 65536). A larger
        %   message is not lost: the library reports its size and readmsg asks again.
        MessageBufferSize = 65536
        %MAXLINELENGTH  Longest line readline reads, terminator included (default 16 MiB);
        %   a longer one throws 'libsock:frameTooLarge' and stays buffered.
        MaxLineLength = 16777216
    end

    properties (Access = private)
        ReadTerminator = "LF"
        WriteTerminator = "LF"
    end

    methods
        function obj = TcpClient(host, port, varargin)
            %TCPCLIENT  Connect (see the class help). A single int64 argument adopts a handle
            %   of the C ABI (libsock.Listener/accept uses this).
            if nargin == 0
                return  % an unconnected object (MATLAB needs a no-argument constructor)
            end
            libsock.load();
            if nargin == 1 && isa(host, 'int64')
                obj.Handle = host;
                cap = double(libsock.LS_ADDRESS_MAX);
                [rc, peer] = calllib('libsock', 'ls_peer_address', obj.Handle, blanks(cap), uint64(cap), uint64(0));
                libsock.check(rc);
                [peerHost, peerPort] = libsock.TcpClient.splitAddress(peer);
                obj.Address = peerHost;
                obj.Port = peerPort;
                return
            end
            if nargin < 2
                port = [];
            elseif ischar(port) || isstring(port)
                varargin = [{port}, varargin];
                port = [];
            end
            opts = struct('ConnectTimeout', 10, 'Timeout', Inf, 'ByteOrder', "little-endian", ...
                'Terminator', "LF", 'Tls', [], 'Proxy', "");
            for k = 1:2:numel(varargin)
                name = validatestring(varargin{k}, fieldnames(opts));
                opts.(name) = varargin{k + 1};
            end
            target = libsock.Socket.formatAddress(host, port);
            connectMs = libsock.Socket.toMs(opts.ConnectTimeout);
            out = libpointer(libsock.ptrtype('int64'), 0);
            if isempty(opts.Tls) && isempty(char(opts.Proxy))
                rc = calllib('libsock', 'ls_tcp_connect', char(target), int32(connectMs), out);
            else
                if isempty(opts.Tls)
                    o = libsock.TcpClient.newOptions();
                else
                    o = libsock.TlsConfig.optionsFor(opts.Tls);
                end
                if ~isempty(char(opts.Proxy))
                    rc = calllib('libsock', 'ls_options_set_proxy', o, char(opts.Proxy));
                    if rc ~= 0
                        calllib('libsock', 'ls_close', o);
                    end
                    libsock.check(rc);
                end
                rc = calllib('libsock', 'ls_tcp_connect_ex', char(target), int32(connectMs), o, out);
                calllib('libsock', 'ls_close', o);
            end
            libsock.check(rc);
            obj.Handle = out.Value;
            obj.Address = string(host);
            if isempty(port)
                [~, targetPort] = libsock.TcpClient.splitAddress(target);
                obj.Port = targetPort;
            else
                obj.Port = double(port);
            end
            obj.ConnectTimeout = opts.ConnectTimeout;
            obj.Timeout = opts.Timeout;
            obj.ByteOrder = opts.ByteOrder;
            configureTerminator(obj, opts.Terminator);
        end

        function st = stats(obj)
            %STATS  What went through this connection so far, as a struct (the fields of
            %   Server.clientStats): BytesIn, BytesOut (application bytes, also with TLS),
            %   MessagesIn, MessagesOut (readmsg/writemsg and their batch calls), QueuedBytes
            %   (always 0: nothing is queued), ConnectedSince (seconds since 1970-01-01 UTC) and
            %   Tls. Never waits (ls_connection_stats).
            %
            %   Example:
            %       st = stats(c); fprintf("%d bytes in\n", st.BytesIn);
            names = {'BytesIn', 'BytesOut', 'MessagesIn', 'MessagesOut', 'QueuedBytes', ...
                'ConnectedSince', 'Tls'};
            codes = [libsock.LS_STAT_BYTES_IN, libsock.LS_STAT_BYTES_OUT, ...
                libsock.LS_STAT_MESSAGES_IN, libsock.LS_STAT_MESSAGES_OUT, ...
                libsock.LS_STAT_QUEUED_BYTES, libsock.LS_CLIENT_STAT_CONNECTED_SINCE_MS, ...
                libsock.LS_CLIENT_STAT_TLS];
            st = struct();
            for k = 1:numel(codes)
                out = libpointer(libsock.ptrtype('int64'), 0);
                rc = calllib('libsock', 'ls_connection_stats', obj.Handle, int32(codes(k)), out);
                libsock.check(rc);
                st.(names{k}) = double(out.Value);
            end
            st.ConnectedSince = st.ConnectedSince / 1000;
            st.Tls = st.Tls ~= 0;
        end

        function info = tlsInfo(obj)
            %TLSINFO  What the TLS handshake agreed on, as a struct: IsTls (false for a plain
            %   connection, the other fields then empty), Version ("TLSv1.3", "TLSv1.2"),
            %   Cipher, Alpn ("" when none), PeerFingerprint (the SHA-256 of the peer's
            %   certificate: what a "Pin" takes; "" when it sent none), PeerCertificate (DER,
            %   uint8).
            out = libpointer('int32Ptr', 0);
            libsock.check(calllib('libsock', 'ls_is_tls', obj.Handle, out));
            info = struct('IsTls', out.Value ~= 0, 'Version', "", 'Cipher', "", 'Alpn', "", ...
                'PeerFingerprint', "", 'PeerCertificate', zeros(1, 0, 'uint8'));
            cap = 256;
            [rc, text, n] = calllib('libsock', 'ls_tls_version', obj.Handle, blanks(cap), uint64(cap), uint64(0));
            libsock.check(rc);
            info.Version = libsock.TcpClient.head(text, n);
            [rc, text, n] = calllib('libsock', 'ls_tls_cipher', obj.Handle, blanks(cap), uint64(cap), uint64(0));
            libsock.check(rc);
            info.Cipher = libsock.TcpClient.head(text, n);
            [rc, text, n] = calllib('libsock', 'ls_tls_alpn', obj.Handle, blanks(cap), uint64(cap), uint64(0));
            libsock.check(rc);
            info.Alpn = libsock.TcpClient.head(text, n);
            [rc, text, n] = calllib('libsock', 'ls_tls_peer_fingerprint', obj.Handle, blanks(cap), uint64(cap), uint64(0));
            libsock.check(rc);
            info.PeerFingerprint = libsock.TcpClient.head(text, n);
            [rc, der, n] = calllib('libsock', 'ls_tls_peer_certificate', obj.Handle, zeros(1, 8192, 'uint8'), uint64(8192), uint64(0));
            if rc == libsock.LS_ERR_BUFFER_TOO_SMALL
                cap = double(n);
                [rc, der, n] = calllib('libsock', 'ls_tls_peer_certificate', obj.Handle, zeros(1, cap, 'uint8'), uint64(cap), uint64(0));
            end
            libsock.check(rc);
            der = reshape(uint8(der), 1, []);
            info.PeerCertificate = der(1:double(n));
        end

        function n = get.NumBytesAvailable(obj)
            out = libpointer(libsock.ptrtype('size'), 0);
            rc = calllib('libsock', 'ls_bytes_available', obj.Handle, out);
            libsock.check(rc);
            n = double(out.Value);
        end

        function t = get.Terminator(obj)
            if isequal(obj.ReadTerminator, obj.WriteTerminator)
                t = obj.ReadTerminator;
            else
                t = {obj.ReadTerminator, obj.WriteTerminator};
            end
        end

        function set.MessageBufferSize(obj, n)
            validateattributes(n, {'numeric'}, {'scalar', 'integer', 'positive'});
            obj.MessageBufferSize = double(n);
        end

        function configureTerminator(obj, readTerminator, writeTerminator)
            %CONFIGURETERMINATOR  Set the line terminator of readline and writeline.
            %   configureTerminator(t, TERM) sets both; configureTerminator(t, READ, WRITE)
            %   each. TERM is "LF", "CR", "CR/LF" or a byte value 0..255.
            %
            %   Example:
            %       configureTerminator(t, "CR/LF")
            if nargin < 3
                writeTerminator = readTerminator;
            end
            libsock.TcpClient.terminatorBytes(readTerminator);
            libsock.TcpClient.terminatorBytes(writeTerminator);
            obj.ReadTerminator = libsock.TcpClient.normalizeTerminator(readTerminator);
            obj.WriteTerminator = libsock.TcpClient.normalizeTerminator(writeTerminator);
        end

        function write(obj, data, datatype)
            %WRITE  Write values to the connection (all of them; waits up to Timeout).
            %   write(t, DATA) writes numeric DATA as "uint8" and text as "char".
            %   write(t, DATA, DATATYPE) casts DATA to DATATYPE ("uint8", "int8", "uint16",
            %   "int16", "uint32", "int32", "uint64", "int64", "single", "double", "char",
            %   "string") and sends its bytes in ByteOrder.
            %
            %   Example:
            %       write(t, single([1.5 2.5]), "single")
            if nargin < 3
                if ischar(data) || isstring(data)
                    datatype = "char";
                else
                    datatype = "uint8";
                end
            end
            bytes = libsock.Socket.toBytes(data, datatype, obj.ByteOrder);
            n = numel(bytes);
            if n == 0
                return
            end
            rc = calllib('libsock', 'ls_send_all', obj.Handle, bytes, uint64(n));
            libsock.check(rc);
            obj.NumBytesWritten = obj.NumBytesWritten + n;
        end

        function data = read(obj, count, datatype)
            %READ  Read COUNT values of DATATYPE (default "uint8").
            %   DATA = read(t) returns the bytes available now (without waiting).
            %   DATA = read(t, COUNT) waits up to Timeout for exactly COUNT bytes.
            %   DATA = read(t, COUNT, DATATYPE) reads COUNT values of DATATYPE (see write) and
            %   returns them as a row vector of that class ("char": a char row, "string": a
            %   string). Throws 'libsock:timeout' (the data stays buffered) or 'libsock:closed'
            %   when the peer finished first.
            %
            %   Example:
            %       x = read(t, 100, "double");
            if nargin < 3
                datatype = "uint8";
            end
            width = libsock.Socket.datatypeSize(datatype);
            if nargin < 2
                count = floor(obj.NumBytesAvailable / width);
            end
            if ~isscalar(count) || count < 0 || count ~= round(count)
                error('libsock:invalidArgument', 'read: COUNT must be a whole number >= 0');
            end
            n = count * width;
            if n == 0
                data = libsock.Socket.fromBytes(zeros(1, 0, 'uint8'), datatype, obj.ByteOrder);
                return
            end
            buf = libpointer('uint8Ptr', zeros(1, n, 'uint8'));
            rc = calllib('libsock', 'ls_recv_exact', obj.Handle, int32(libsock.LS_TIMEOUT_DEFAULT), buf, uint64(n));
            libsock.check(rc);
            data = libsock.Socket.fromBytes(buf.Value, datatype, obj.ByteOrder);
        end

        function line = readline(obj)
            %READLINE  Read one line (UTF-8) and return it as a string without the terminator.
            %   Waits up to Timeout ('libsock:timeout'; the partial line stays buffered);
            %   'libsock:closed' when the peer finished without a terminator.
            %
            %   Example:
            %       configureTerminator(t, "CR/LF");
            %       s = readline(t);
            term = libsock.TcpClient.terminatorBytes(obj.ReadTerminator);
            cap = min(4096, obj.MaxLineLength);
            while true
                buf = libpointer('uint8Ptr', zeros(1, cap, 'uint8'));
                out = libpointer(libsock.ptrtype('size'), 0);
                rc = calllib('libsock', 'ls_recv_until', obj.Handle, int32(libsock.LS_TIMEOUT_DEFAULT), term, uint64(numel(term)), buf, uint64(cap), out);
                if rc ~= libsock.LS_ERR_FRAME_TOO_LARGE || cap >= obj.MaxLineLength
                    break
                end
                % The line is longer than the buffer: it stays buffered, ask again with more room.
                cap = min(cap * 4, obj.MaxLineLength);
            end
            libsock.check(rc);
            n = double(out.Value) - numel(term);
            bytes = buf.Value;
            line = string(native2unicode(bytes(1:n), 'UTF-8'));
        end

        function writeline(obj, text)
            %WRITELINE  Write TEXT (UTF-8) followed by the write terminator.
            %
            %   Example:
            %       writeline(t, "MEAS:VOLT?")
            term = libsock.TcpClient.terminatorBytes(obj.WriteTerminator);
            bytes = [reshape(unicode2native(char(text), 'UTF-8'), 1, []), term];
            n = numel(bytes);
            rc = calllib('libsock', 'ls_send_all', obj.Handle, bytes, uint64(n));
            libsock.check(rc);
            obj.NumBytesWritten = obj.NumBytesWritten + n;
        end

        function writemsg(obj, data, datatype)
            %WRITEMSG  Send DATA as one message through the framing (configureFraming).
            %   writemsg(t, DATA) sends numeric DATA as "uint8", text as "char";
            %   writemsg(t, DATA, DATATYPE) as in write. An empty DATA is an empty message.
            %
            %   Example:
            %       configureFraming(t, "length", 4, "big-endian");
            %       writemsg(t, "hello")
            if nargin < 3
                if ischar(data) || isstring(data)
                    datatype = "char";
                else
                    datatype = "uint8";
                end
            end
            bytes = libsock.Socket.toBytes(data, datatype, obj.ByteOrder);
            n = numel(bytes);
            if n == 0
                % MATLAB passes an empty array as NULL, which the C ABI refuses even for 0
                % bytes: hand it one byte and a length of 0.
                bytes = uint8(0);
            end
            rc = calllib('libsock', 'ls_send_msg', obj.Handle, bytes, uint64(n));
            libsock.check(rc);
            obj.NumBytesWritten = obj.NumBytesWritten + n;
        end

        function data = readmsg(obj, datatype)
            %READMSG  Receive one message through the framing (configureFraming).
            %   DATA = readmsg(t) returns it as uint8; readmsg(t, DATATYPE) as in read.
            %   Waits up to Timeout. A message larger than MessageBufferSize is not lost: the
            %   library reports its size and readmsg asks again with a buffer that fits.
            %   'libsock:closed' at end of stream, 'libsock:frameTooLarge' for a frame above the
            %   framing's maximum.
            if nargin < 2
                datatype = "uint8";
            end
            cap = obj.MessageBufferSize;
            buf = libpointer('uint8Ptr', zeros(1, cap, 'uint8'));
            out = libpointer(libsock.ptrtype('size'), 0);
            rc = calllib('libsock', 'ls_recv_msg', obj.Handle, int32(libsock.LS_TIMEOUT_DEFAULT), buf, uint64(cap), out);
            if rc == libsock.LS_ERR_BUFFER_TOO_SMALL
                % out.Value is the message's size; it is still queued.
                cap = double(out.Value);
                buf = libpointer('uint8Ptr', zeros(1, cap, 'uint8'));
                rc = calllib('libsock', 'ls_recv_msg', obj.Handle, int32(libsock.LS_TIMEOUT_DEFAULT), buf, uint64(cap), out);
            end
            libsock.check(rc);
            n = double(out.Value);
            bytes = buf.Value;
            data = libsock.Socket.fromBytes(bytes(1:n), datatype, obj.ByteOrder);
        end

        function sendMsgs(obj, messages, datatype)
            %SENDMSGS  Send several messages through the framing in one call (their frames go
            %   out together in as few system calls as possible).
            %   sendMsgs(t, MESSAGES) sends each element of the cell array MESSAGES (or of a
            %   string array) as one message, numeric as "uint8" and text as "char";
            %   sendMsgs(t, MESSAGES, DATATYPE) casts each as write does. Every message is
            %   checked against the framing first: 'libsock:frameTooLarge' sends none.
            %
            %   Example:
            %       configureFraming(t, "length", 4, "big-endian");
            %       sendMsgs(t, {"one", "two", uint8(1:3)})
            if nargin < 3
                datatype = [];
            end
            [bytes, lens, count, n] = libsock.Socket.packMessages(messages, datatype, obj.ByteOrder);
            if count == 0
                return
            end
            rc = calllib('libsock', 'ls_send_msgs', obj.Handle, bytes, lens, uint64(count));
            libsock.check(rc);
            obj.NumBytesWritten = obj.NumBytesWritten + n;
        end

        function messages = recvMsgs(obj, maxCount, datatype)
            %RECVMSGS  Receive up to MAXCOUNT messages through the framing in one call.
            %   MESSAGES = recvMsgs(t, MAXCOUNT) waits up to Timeout for the first message and
            %   returns it with those already received (or readable without waiting), at most
            %   MAXCOUNT (default 64), as a 1xN cell array of uint8 rows;
            %   recvMsgs(t, MAXCOUNT, DATATYPE) converts each as read does. A message larger
            %   than MessageBufferSize is not lost (the buffer grows). An error met after the
            %   first message ends the batch and is thrown by the next readmsg/recvMsgs, so no
            %   message before it is lost.
            %
            %   Example:
            %       msgs = recvMsgs(t, 100, "string");
            if nargin < 2 || isempty(maxCount)
                maxCount = 64;
            end
            if nargin < 3
                datatype = "uint8";
            end
            if ~isscalar(maxCount) || maxCount < 1 || maxCount ~= round(maxCount)
                error('libsock:invalidArgument', 'recvMsgs: MAXCOUNT must be a whole number >= 1');
            end
            cap = obj.MessageBufferSize;
            [rc, buf, lens, n] = calllib('libsock', 'ls_recv_msgs', obj.Handle, int32(libsock.LS_TIMEOUT_DEFAULT), zeros(1, cap, 'uint8'), uint64(cap), uint64(maxCount), zeros(1, maxCount, 'uint64'), uint64(0));
            if rc == libsock.LS_ERR_BUFFER_TOO_SMALL
                % lens(1) is the first message's size; it is still queued.
                cap = double(lens(1));
                [rc, buf, lens, n] = calllib('libsock', 'ls_recv_msgs', obj.Handle, int32(libsock.LS_TIMEOUT_DEFAULT), zeros(1, cap, 'uint8'), uint64(cap), uint64(maxCount), zeros(1, maxCount, 'uint64'), uint64(0));
            end
            libsock.check(rc);
            buf = reshape(uint8(buf), 1, []);
            n = double(n);
            messages = cell(1, n);
            at = 0;
            for k = 1:n
                len = double(lens(k));
                messages{k} = libsock.Socket.fromBytes(buf(at + 1:at + len), datatype, obj.ByteOrder);
                at = at + len;
            end
        end

        function sent = sendFile(obj, path, offset, len)
            %SENDFILE  Send (part of) a file's bytes on the connection, with sendfile(2) where
            %   the OS has it. SENT = sendFile(t, PATH) sends the whole file; sendFile(t, PATH,
            %   OFFSET, LEN) LEN bytes from byte OFFSET (LEN -1 or omitted: to the end). Raw
            %   bytes, no framing: the peer must know the length (recvFile). For a transfer
            %   with a name, a checksum and resume, see libsock.FileTransfer.
            %
            %   Example:
            %       n = sendFile(t, "data.bin");
            if nargin < 3 || isempty(offset)
                offset = 0;
            end
            if nargin < 4 || isempty(len)
                len = -1;
            end
            out = libpointer(libsock.ptrtype('uint64'), 0);
            rc = calllib('libsock', 'ls_send_file', obj.Handle, char(path), uint64(offset), int64(len), out);
            libsock.check(rc);
            sent = double(out.Value);
            obj.NumBytesWritten = obj.NumBytesWritten + sent;
        end

        function received = recvFile(obj, path, len)
            %RECVFILE  Receive exactly LEN bytes into a new file at PATH (created or truncated).
            %   RECEIVED = recvFile(t, PATH, LEN) waits up to Timeout for each piece and returns
            %   the count; 'libsock:closed' when the peer finished first.
            %
            %   Example:
            %       recvFile(t, "copy.bin", 1048576);
            out = libpointer(libsock.ptrtype('uint64'), 0);
            rc = calllib('libsock', 'ls_recv_file', obj.Handle, char(path), uint64(len), out);
            libsock.check(rc);
            received = double(out.Value);
        end

        function flush(obj, buffer)
            %FLUSH  Discard input that arrived but was not read.
            %   flush(t) and flush(t, "input") drop the bytes available now; flush(t, "output")
            %   does nothing, since every write has been handed to the OS when it returns.
            if nargin < 2
                buffer = "input";
            end
            buffer = validatestring(buffer, {'input', 'output'});
            if strcmp(buffer, 'output')
                return
            end
            n = obj.NumBytesAvailable;
            while n > 0
                buf = libpointer('uint8Ptr', zeros(1, n, 'uint8'));
                out = libpointer(libsock.ptrtype('size'), 0);
                rc = calllib('libsock', 'ls_recv', obj.Handle, int32(libsock.LS_TIMEOUT_POLL), buf, uint64(n), out);
                libsock.check(rc);
                if out.Value == 0
                    break
                end
                n = obj.NumBytesAvailable;
            end
        end

        function shutdown(obj, how)
            %SHUTDOWN  Shut down one direction of the connection (the handle stays open).
            %   shutdown(t) or shutdown(t, "write"): half-close; the peer reads end of stream
            %   after what was sent and can still reply, which read/readline then return.
            %   shutdown(t, "read") and shutdown(t, "both") as the socket call does.
            if nargin < 2
                how = "write";
            end
            how = validatestring(how, {'write', 'read', 'both'});
            if strcmp(how, 'write')
                code = libsock.LS_SHUT_WRITE;
            elseif strcmp(how, 'read')
                code = libsock.LS_SHUT_READ;
            else
                code = libsock.LS_SHUT_BOTH;
            end
            rc = calllib('libsock', 'ls_socket_shutdown', obj.Handle, int32(code));
            libsock.check(rc);
        end
    end

    methods (Static, Hidden)
        function h = newOptions()
            %NEWOPTIONS  A new options handle of the C ABI (free it with ls_close).
            out = libpointer(libsock.ptrtype('int64'), 0);
            libsock.check(calllib('libsock', 'ls_options_new', out));
            h = out.Value;
        end

        function s = head(text, n)
            %HEAD  The first N characters of a text output as a string.
            text = char(text);
            s = string(text(1:min(numel(text), double(n))));
        end

        function [host, port] = splitAddress(address)
            %SPLITADDRESS  "host:port" / "[v6]:port" / "unix:/path" to host and port.
            address = char(address);
            if strncmp(address, 'unix:', 5)
                host = string(address);
                port = 0;
                return
            end
            k = find(address == ':', 1, 'last');
            host = string(regexprep(address(1:k - 1), '^\[(.*)\]$', '$1'));
            port = str2double(address(k + 1:end));
        end

        function t = normalizeTerminator(t)
            %NORMALIZETERMINATOR  "lf" -> "LF"; numbers stay numbers.
            if ischar(t) || isstring(t)
                t = string(upper(char(t)));
            end
        end

        function bytes = terminatorBytes(t)
            %TERMINATORBYTES  A terminator ("LF", "CR", "CR/LF" or 0..255) to its bytes.
            if isnumeric(t)
                if ~isscalar(t) || t < 0 || t > 255 || t ~= round(t)
                    error('libsock:invalidArgument', 'a numeric terminator is one byte, 0..255');
                end
                bytes = uint8(t);
                return
            end
            switch upper(char(t))
                case "LF"
                    bytes = uint8(10);
                case "CR"
                    bytes = uint8(13);
                case "CR/LF"
                    bytes = uint8([13 10]);
                otherwise
                    error('libsock:invalidArgument', 'terminator "%s": use "LF", "CR", "CR/LF" or 0..255', char(t));
            end
        end
    end
end
