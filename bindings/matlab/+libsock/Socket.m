classdef (Abstract) Socket < handle
    %SOCKET  What every libsock object shares: the handle, timeouts, byte order, options, close.
    %   libsock.Socket is the base class of libsock.TcpClient, libsock.Listener and libsock.Udp;
    %   you do not create it directly. It holds the integer handle of the C ABI (an int64 below
    %   2^53), closes it in delete, and translates MATLAB values to and from bytes.
    %
    %   Socket properties:
    %       Timeout      - seconds a read, readline, readmsg or accept waits (Inf: forever)
    %       ByteOrder    - "little-endian" (default) or "big-endian" for multi-byte datatypes
    %       LocalAddress - the local address as text, e.g. "127.0.0.1:53012"
    %       LocalPort    - the local port (the real one after binding to port 0)
    %
    %   Socket methods:
    %       close            - close the socket (closing twice is harmless)
    %       setOption        - set a socket option ("NoDelay", "KeepAlive", ...)
    %       getOption        - read a socket option back from the OS
    %       configureFraming - choose how writemsg/readmsg cut the byte stream into messages
    %
    %   Errors are MExceptions with identifiers like 'libsock:timeout' (see libsock.check).
    %
    %   See also libsock.TcpClient, libsock.Listener, libsock.Udp, libsock.check.

    properties (SetAccess = protected, Hidden)
        %HANDLE  The C ABI handle (int64); 0 once closed.
        Handle = int64(0)
    end

    properties (Dependent)
        %TIMEOUT  Seconds a blocking read or accept waits before 'libsock:timeout' (Inf: forever).
        %   Set through ls_set_timeout (milliseconds), read back with ls_get_timeout. Sends wait
        %   for the same time for the peer to take data.
        Timeout
    end

    properties
        %BYTEORDER  Byte order of multi-byte datatypes: "little-endian" (default) or "big-endian".
        %   read/write/readmsg/writemsg swap the bytes of int16 ... double values with swapbytes
        %   when it is "big-endian" (network order). uint8, int8, char and string are unaffected.
        ByteOrder = "little-endian"
    end

    properties (Dependent, SetAccess = private)
        %LOCALADDRESS  The local address as text ("127.0.0.1:53012", "[::1]:5000", "unix:/path").
        LocalAddress
        %LOCALPORT  The local port (0 for Unix sockets).
        LocalPort
    end

    methods
        function set.ByteOrder(obj, value)
            obj.ByteOrder = string(validatestring(value, {'little-endian', 'big-endian'}));
        end

        function t = get.Timeout(obj)
            out = libpointer('int32Ptr', 0);
            rc = calllib('libsock', 'ls_get_timeout', obj.Handle, out);
            libsock.check(rc);
            t = libsock.Socket.fromMs(out.Value);
        end

        function set.Timeout(obj, seconds)
            ms = libsock.Socket.toMs(seconds);
            rc = calllib('libsock', 'ls_set_timeout', obj.Handle, int32(ms));
            libsock.check(rc);
        end

        function a = get.LocalAddress(obj)
            cap = double(libsock.LS_ADDRESS_MAX);
            [rc, a] = calllib('libsock', 'ls_local_address', obj.Handle, blanks(cap), uint64(cap), uint64(0));
            libsock.check(rc);
            a = string(a);
        end

        function p = get.LocalPort(obj)
            out = libpointer('int32Ptr', 0);
            rc = calllib('libsock', 'ls_local_port', obj.Handle, out);
            libsock.check(rc);
            p = double(out.Value);
        end

        function setOption(obj, option, value)
            %SETOPTION  Set a socket option.
            %   setOption(s, NAME, VALUE) sets option NAME to VALUE (a number; logical for the
            %   on/off ones). Names: core's option names in
            %   PascalCase (docs/NAMES.md; matched ignoring case and underscores, so
            %   "recv_buffer_size" works too): "NoDelay", "KeepAlive", "KeepAliveIdle" (s),
            %   "KeepAliveInterval" (s), "KeepAliveCount", "Linger" (s, -1 off),
            %   "RecvBufferSize", "SendBufferSize", "ReuseAddress", "ReusePort", "TTL", "TOS",
            %   "V6Only", "Broadcast", "MulticastTTL", "MulticastLoop", "TcpUserTimeout" (ms);
            %   or an LS_OPT_* code such as libsock.LS_OPT_NODELAY. The former names
            %   "ReceiveBufferSize" and "UserTimeout" still work.
            %
            %   Example:
            %       setOption(t, "NoDelay", true)
            %
            %   See also getOption.
            code = libsock.Socket.optionCode(option);
            rc = calllib('libsock', 'ls_set_option', obj.Handle, int32(code), int64(value));
            libsock.check(rc);
        end

        function value = getOption(obj, option)
            %GETOPTION  Read a socket option back from the OS.
            %   VALUE = getOption(s, NAME) returns the option's value as a double (Linux reports
            %   buffer sizes doubled). NAME as in setOption.
            %
            %   See also setOption.
            code = libsock.Socket.optionCode(option);
            out = libpointer(libsock.ptrtype('int64'), 0);
            rc = calllib('libsock', 'ls_get_option', obj.Handle, int32(code), out);
            libsock.check(rc);
            value = double(out.Value);
        end

        function configureFraming(obj, kind, varargin)
            %CONFIGUREFRAMING  Choose how writemsg/readmsg cut the byte stream into messages.
            %   configureFraming(s, "raw")                        no framing (the default)
            %   configureFraming(s, "length", WIDTH, ORDER, MAX)  a WIDTH-byte length field (1, 2,
            %       4 or 8; default 4) before each message, ORDER "big-endian" (default) or
            %       "little-endian"; messages above MAX bytes (default 0 = 16 MiB) are
            %       'libsock:frameTooLarge'
            %   configureFraming(s, "delimited", DELIM, MAX, KEEP) messages end with DELIM
            %       (char or uint8, e.g. [13 10]; CRLF when omitted; an empty DELIM is
            %       'libsock:invalidArgument'); KEEP true delivers the delimiter too
            %   configureFraming(s, "length", WIDTH, ORDER, MAX, Name, Value)  a longer header:
            %       "Offset" (bytes before the length field, default 0), "HeaderLen" (the whole
            %       header, default Offset + WIDTH), "Adjustment" (added to the field to give the
            %       body's length, e.g. -HeaderLen when the field counts the header; default 0),
            %       "KeepHeader" (true: readmsg returns each message with its header, and
            %       writemsg expects one in front, its length field filled in by libsock)
            %   configureFraming(s, "fixed", SIZE)                messages of SIZE bytes each
            %   configureFraming(s, "hppack", FLAG, MAX)          HP-Socket's PACK header
            %
            %   On a libsock.Listener it sets the framing of every connection accept returns.
            %
            %   Example:
            %       configureFraming(t, "length", 4, "big-endian")
            %       writemsg(t, uint8(1:10))
            %
            %   See also libsock.TcpClient/writemsg, libsock.TcpClient/readmsg.
            libsock.Socket.setFraming(obj.Handle, kind, varargin{:});
        end

        function close(obj)
            %CLOSE  Close the socket (ls_close). Closing twice is harmless; any other use
            %   afterwards throws 'libsock:badHandle'. A read blocked on this socket in another
            %   thread returns 'libsock:closed'.
            h = obj.Handle;
            obj.Handle = int64(0);
            rc = calllib('libsock', 'ls_close', h);
            libsock.check(rc);
        end

        function delete(obj)
            %DELETE  Close the handle when the object goes away (clear, out of scope).
            if obj.Handle ~= 0 && libisloaded('libsock')
                calllib('libsock', 'ls_close', obj.Handle);
                obj.Handle = int64(0);
            end
        end
    end

    methods (Static, Hidden)
        function setFraming(handle, kind, varargin)
            %SETFRAMING  configureFraming on any handle that takes the ls_set_framing_* calls
            %   (a connection, a listener, an engine config: libsock.EngineConfig).
            kind = lower(char(kind));
            switch kind
                case "raw"
                    rc = calllib('libsock', 'ls_set_framing_raw', handle);
                case "length"
                    [varargin, header] = libsock.Socket.lengthHeaderArgs(varargin);
                    width = libsock.Socket.optArg(varargin, 1, 4);
                    order = char(libsock.Socket.optArg(varargin, 2, 'big-endian'));
                    maxLength = libsock.Socket.optArg(varargin, 3, 0);
                    bigEndian = double(strcmpi(order, 'big-endian'));
                    if isempty(header)
                        rc = calllib('libsock', 'ls_set_framing_length', handle, int32(width), int32(bigEndian), uint64(maxLength));
                    else
                        headerLen = header.HeaderLen;
                        if isempty(headerLen)
                            headerLen = header.Offset + width;  % the field ends the header
                        end
                        if header.Offset < 0 || headerLen < 0
                            error('libsock:invalidArgument', 'framing "length": Offset and HeaderLen are byte counts >= 0');
                        end
                        rc = calllib('libsock', 'ls_set_framing_length_ex', handle, int32(width), int32(bigEndian), ...
                            uint64(header.Offset), uint64(headerLen), int64(header.Adjustment), uint64(maxLength), ...
                            int32(logical(header.KeepHeader)));
                    end
                case "delimited"
                    % The delimiter is the one argument where empty is a value: given, even
                    % empty ("" or []), it reaches the library, which refuses an empty one
                    % (libsock:invalidArgument); only when absent is it CRLF.
                    if numel(varargin) >= 1
                        delim = libsock.Socket.textBytes(varargin{1});
                    else
                        delim = uint8([13 10]);
                    end
                    maxLength = libsock.Socket.optArg(varargin, 2, 0);
                    keep = double(logical(libsock.Socket.optArg(varargin, 3, false)));
                    rc = calllib('libsock', 'ls_set_framing_delimited', handle, delim, uint64(numel(delim)), uint64(maxLength), int32(keep));
                case "fixed"
                    frameSize = libsock.Socket.optArg(varargin, 1, 1);
                    rc = calllib('libsock', 'ls_set_framing_fixed', handle, uint64(frameSize));
                case "hppack"
                    flag = libsock.Socket.optArg(varargin, 1, 0);
                    maxLength = libsock.Socket.optArg(varargin, 2, 0);
                    rc = calllib('libsock', 'ls_set_framing_hp_pack', handle, int32(flag), uint64(maxLength));
                otherwise
                    error('libsock:invalidArgument', ...
                        'framing "%s": use "raw", "length", "delimited", "fixed" or "hppack"', kind);
            end
            libsock.check(rc);
        end

        function [positional, header] = lengthHeaderArgs(args)
            %LENGTHHEADERARGS  Split configureFraming's "length" arguments into the positional
            %   ones (WIDTH, ORDER, MAX) and the header's Name, Value pairs ("Offset",
            %   "HeaderLen", "Adjustment", "KeepHeader"); HEADER is [] when none was given.
            names = {'Offset', 'HeaderLen', 'Adjustment', 'KeepHeader'};
            header = [];
            k = 1;
            while k <= numel(args)
                a = args{k};
                if (ischar(a) || isstring(a)) && any(strcmpi(char(a), names))
                    break
                end
                k = k + 1;
            end
            positional = args(1:k - 1);
            pairs = args(k:end);
            if isempty(pairs)
                return
            end
            if mod(numel(pairs), 2) ~= 0
                error('libsock:invalidArgument', 'framing "length": %s needs a value', char(pairs{end}));
            end
            header = struct('Offset', 0, 'HeaderLen', [], 'Adjustment', 0, 'KeepHeader', false);
            for j = 1:2:numel(pairs)
                name = pairs{j};
                hit = [];
                if ischar(name) || isstring(name)
                    hit = find(strcmpi(char(name), names), 1);
                end
                if isempty(hit)
                    error('libsock:invalidArgument', 'framing "length": unknown setting; use %s', strjoin(names, ', '));
                end
                value = pairs{j + 1};
                if ~(isnumeric(value) || islogical(value)) || ~isscalar(value) || value ~= round(value)
                    error('libsock:invalidArgument', 'framing "length": %s must be a whole number', names{hit});
                end
                header.(names{hit}) = double(value);
            end
        end

        function [bytes, lens, count, total] = packMessages(messages, datatype, byteOrder)
            %PACKMESSAGES  A batch of messages (a cell array, a string array or one message) to
            %   the C ABI's layout: the bodies back to back in BYTES (never empty: MATLAB
            %   passes [] as NULL), their lengths in LENS (uint64), COUNT and TOTAL bytes.
            %   DATATYPE [] takes "char" for text and "uint8" for numbers, message by message.
            if isstring(messages)
                messages = cellstr(messages);
            elseif ~iscell(messages)
                messages = {messages};
            end
            count = numel(messages);
            parts = cell(1, count);
            lens = zeros(1, count, 'uint64');
            for k = 1:count
                m = messages{k};
                dt = datatype;
                if isempty(dt)
                    dt = libsock.Server.defaultType(m);
                end
                parts{k} = libsock.Socket.toBytes(m, dt, byteOrder);
                lens(k) = numel(parts{k});
            end
            bytes = [uint8([]), parts{:}];
            total = numel(bytes);
            if total == 0
                bytes = uint8(0);
            end
            if count == 0
                lens = uint64(0);
            end
        end

        function ms = toMs(seconds)
            %TOMS  Seconds (Inf or [] = forever) to the C ABI's int32 milliseconds (-1 = forever).
            if isempty(seconds) || isinf(seconds)
                ms = -1;
            elseif ~isscalar(seconds) || ~isreal(seconds) || seconds < 0 || isnan(seconds)
                error('libsock:invalidArgument', 'a timeout is a number of seconds >= 0 or Inf');
            else
                ms = min(round(double(seconds) * 1000), double(intmax('int32')));
            end
        end

        function s = fromMs(ms)
            %FROMMS  The C ABI's milliseconds (-1 = forever) to seconds (Inf).
            if ms < 0
                s = Inf;
            else
                s = double(ms) / 1000;
            end
        end

        function v = optArg(args, k, default)
            %OPTARG  The k-th optional argument, or DEFAULT when absent or empty.
            if numel(args) >= k && ~isempty(args{k})
                v = args{k};
            else
                v = default;
            end
        end

        function w = datatypeSize(datatype)
            %DATATYPESIZE  Bytes per value of a read/write datatype.
            switch lower(char(datatype))
                case {"uint8", "int8", "char", "string"}
                    w = 1;
                case {"uint16", "int16"}
                    w = 2;
                case {"uint32", "int32", "single"}
                    w = 4;
                case {"uint64", "int64", "double"}
                    w = 8;
                otherwise
                    error('libsock:invalidArgument', ['datatype "%s": use uint8, int8, uint16, ' ...
                        'int16, uint32, int32, uint64, int64, single, double, char or string'], ...
                        char(datatype));
            end
        end

        function [bytes, n] = engineBytes(data, datatype)
            %ENGINEBYTES  DATA as the bytes of one engine message or datagram (little-endian,
            %   DATATYPE as libsock.TcpClient/write; empty DATATYPE: libsock.Server.defaultType)
            %   and their count N. Empty DATA is passed as one byte with N = 0: MATLAB passes []
            %   as NULL.
            if isempty(datatype)
                datatype = libsock.Server.defaultType(data);
            end
            bytes = libsock.Socket.toBytes(data, datatype, "little-endian");
            n = numel(bytes);
            if n == 0
                bytes = uint8(0);
            end
        end

        function bytes = toBytes(data, datatype, byteOrder)
            %TOBYTES  MATLAB data to the bytes sent (a uint8 row vector).
            %   "char"/"string": one byte per character (0..255, as MATLAB's tcpclient does);
            %   numeric: cast to DATATYPE, swapbytes when BYTEORDER is "big-endian" (MATLAB
            %   itself runs little-endian everywhere), then typecast to uint8.
            datatype = lower(char(datatype));
            libsock.Socket.datatypeSize(datatype);
            if strcmp(datatype, 'char') || strcmp(datatype, 'string')
                if isstring(data)
                    text = char(strjoin(data, ""));
                else
                    text = char(data);  % char, or character codes given as numbers
                end
                if any(double(text) > 255)
                    error('libsock:invalidArgument', ['"%s" writes one byte per character; ' ...
                        'use writeline (UTF-8) for other text'], datatype);
                end
                bytes = uint8(double(text));
            else
                values = cast(reshape(data, 1, []), datatype);
                if strcmpi(byteOrder, 'big-endian')
                    values = swapbytes(values);
                end
                bytes = typecast(values, 'uint8');
            end
            bytes = reshape(bytes, 1, []);
        end

        function data = fromBytes(bytes, datatype, byteOrder)
            %FROMBYTES  Received bytes (uint8) to MATLAB data of DATATYPE (a row vector).
            datatype = lower(char(datatype));
            w = libsock.Socket.datatypeSize(datatype);
            bytes = reshape(uint8(bytes), 1, []);
            if strcmp(datatype, 'char')
                data = char(bytes);
            elseif strcmp(datatype, 'string')
                data = string(char(bytes));
            else
                n = floor(numel(bytes) / w) * w;
                data = typecast(bytes(1:n), datatype);
                if strcmpi(byteOrder, 'big-endian')
                    data = swapbytes(data);
                end
            end
        end

        function bytes = textBytes(value)
            %TEXTBYTES  A delimiter or terminator given as text ('\r\n' written as [13 10] or
            %   char([13 10])) or as byte values, to a uint8 row vector.
            if ischar(value) || isstring(value)
                bytes = uint8(double(char(value)));
            else
                bytes = uint8(reshape(value, 1, []));
            end
        end

        function id = errorIdentifier(name)
            %ERRORIDENTIFIER  An error name from ls_error_name to an MException identifier:
            %   'CONNECTION_REFUSED' -> 'libsock:connectionRefused'.
            parts = lower(strsplit(char(name), '_'));
            for k = 2:numel(parts)
                if ~isempty(parts{k})
                    parts{k}(1) = upper(parts{k}(1));
                end
            end
            id = ['libsock:' strjoin(parts, '')];
        end

        function code = optionCode(option)
            %OPTIONCODE  An option name ("NoDelay") or LS_OPT_* number to the LS_OPT_* number.
            if isnumeric(option)
                code = double(option);
                return
            end
            % Core's option names (docs/NAMES.md) in PascalCase, then the former names.
            names = {'NoDelay', 'KeepAlive', 'KeepAliveIdle', 'KeepAliveInterval', ...
                'KeepAliveCount', 'Linger', 'RecvBufferSize', 'SendBufferSize', ...
                'ReuseAddress', 'ReusePort', 'TTL', 'TOS', 'V6Only', 'Broadcast', ...
                'MulticastTTL', 'MulticastLoop', 'TcpUserTimeout'};
            codes = [libsock.LS_OPT_NODELAY, libsock.LS_OPT_KEEPALIVE, ...
                libsock.LS_OPT_KEEPALIVE_IDLE, libsock.LS_OPT_KEEPALIVE_INTERVAL, ...
                libsock.LS_OPT_KEEPALIVE_COUNT, libsock.LS_OPT_LINGER, ...
                libsock.LS_OPT_RECV_BUFFER_SIZE, libsock.LS_OPT_SEND_BUFFER_SIZE, ...
                libsock.LS_OPT_REUSE_ADDRESS, libsock.LS_OPT_REUSE_PORT, libsock.LS_OPT_TTL, ...
                libsock.LS_OPT_TOS, libsock.LS_OPT_V6_ONLY, libsock.LS_OPT_BROADCAST, ...
                libsock.LS_OPT_MULTICAST_TTL, libsock.LS_OPT_MULTICAST_LOOP, ...
                libsock.LS_OPT_TCP_USER_TIMEOUT];
            formerNames = {'ReceiveBufferSize', 'UserTimeout'};
            formerCodes = [libsock.LS_OPT_RECV_BUFFER_SIZE, libsock.LS_OPT_TCP_USER_TIMEOUT];
            k = find(strcmpi([names, formerNames], strrep(char(option), '_', '')), 1);
            codes = [codes, formerCodes];
            if isempty(k)
                error('libsock:invalidArgument', 'unknown option "%s"; known: %s', ...
                    char(option), strjoin(names, ', '));
            end
            code = double(codes(k));
        end

        function target = formatAddress(host, port)
            %FORMATADDRESS  Host and port to the C ABI's "host:port" / "[v6]:port" text.
            %   A single argument is taken as a complete address ("host:port", "unix:/path").
            host = char(host);
            if nargin < 2 || isempty(port)
                target = host;
            elseif any(host == ':') && host(1) ~= '['
                target = sprintf('[%s]:%d', host, round(double(port)));
            else
                target = sprintf('%s:%d', host, round(double(port)));
            end
        end
    end
end
