classdef Udp < libsock.Socket
    %UDP  A UDP (or Unix datagram) socket, used like MATLAB's udpport in byte mode.
    %   u = libsock.Udp() binds to any free port on all IPv4 interfaces.
    %   u = libsock.Udp("LocalHost", HOST, "LocalPort", PORT) binds there ("::" for IPv6).
    %   u = libsock.Udp("unix:/tmp/app.dgram") binds a Unix datagram socket.
    %   Further Name, Value pairs: "Timeout" (seconds read waits, default Inf), "ByteOrder",
    %   "EnableBroadcast" (logical).
    %
    %   Each write sends one datagram and each read returns one datagram, with its sender:
    %
    %       u = libsock.Udp("LocalHost", "127.0.0.1");
    %       write(u, [1 2 3], "double", "127.0.0.1", 5000);
    %       [data, sender, truncated] = read(u, 1024, "uint8");
    %
    %   Udp properties:
    %       LocalHost, LocalPort  - where the socket is bound (LocalPort is the real port)
    %       NumBytesAvailable     - the size of the next datagram (0 if none)
    %       Timeout, ByteOrder, LocalAddress (see libsock.Socket)
    %
    %   Udp methods:
    %       write               - send one datagram to an address
    %       read                - receive one datagram: data, sender, truncated
    %       configureMulticast  - join (or leave) a multicast group
    %       leaveMulticast      - leave a multicast group
    %       setMulticastInterface - the interface multicast datagrams leave by
    %       setOption, getOption, close, delete (see libsock.Socket)
    %
    %   See also libsock.TcpClient, libsock.Listener, udpport.

    properties (SetAccess = private)
        %LOCALHOST  The host the socket was bound to.
        LocalHost = "0.0.0.0"
    end

    properties (Dependent)
        %NUMBYTESAVAILABLE  The size in bytes of the next datagram waiting (0 if none).
        NumBytesAvailable
    end

    methods
        function obj = Udp(varargin)
            %UDP  Bind a datagram socket (see the class help).
            libsock.load();
            target = '';
            if mod(numel(varargin), 2) == 1
                target = char(varargin{1});
                varargin = varargin(2:end);
            end
            opts = struct('LocalHost', "0.0.0.0", 'LocalPort', 0, 'Timeout', Inf, ...
                'ByteOrder', "little-endian", 'EnableBroadcast', false);
            for k = 1:2:numel(varargin)
                name = validatestring(varargin{k}, fieldnames(opts));
                opts.(name) = varargin{k + 1};
            end
            if isempty(target)
                target = libsock.Socket.formatAddress(opts.LocalHost, opts.LocalPort);
                obj.LocalHost = string(opts.LocalHost);
            else
                obj.LocalHost = string(target);
            end
            out = libpointer(libsock.ptrtype('int64'), 0);
            rc = calllib('libsock', 'ls_udp_bind', char(target), out);
            libsock.check(rc);
            obj.Handle = out.Value;
            obj.Timeout = opts.Timeout;
            obj.ByteOrder = opts.ByteOrder;
            if opts.EnableBroadcast
                setOption(obj, "Broadcast", 1);
            end
        end

        function n = get.NumBytesAvailable(obj)
            out = libpointer(libsock.ptrtype('size'), 0);
            rc = calllib('libsock', 'ls_bytes_available', obj.Handle, out);
            libsock.check(rc);
            n = double(out.Value);
        end

        function write(obj, data, datatype, host, port)
            %WRITE  Send DATA as one datagram.
            %   write(u, DATA, DATATYPE, HOST, PORT) sends to HOST:PORT;
            %   write(u, DATA, DATATYPE, ADDRESS) to a complete address ("127.0.0.1:5000",
            %   "[::1]:5000", "unix:/path"). DATATYPE as in libsock.TcpClient/write; an empty
            %   DATA sends an empty datagram.
            if nargin < 5
                port = [];
            end
            target = libsock.Socket.formatAddress(host, port);
            bytes = libsock.Socket.toBytes(data, datatype, obj.ByteOrder);
            n = numel(bytes);
            if n == 0
                % MATLAB passes an empty array as NULL, which the C ABI refuses even for 0
                % bytes: hand it one byte and a length of 0.
                bytes = uint8(0);
            end
            rc = calllib('libsock', 'ls_send_to', obj.Handle, bytes, uint64(n), char(target));
            libsock.check(rc);
        end

        function [data, sender, truncated] = read(obj, count, datatype)
            %READ  Receive one datagram (waits up to Timeout; 'libsock:timeout' if none came).
            %   [DATA, SENDER, TRUNCATED] = read(u, COUNT, DATATYPE) receives one datagram of at
            %   most COUNT values of DATATYPE (default: "uint8", COUNT 65535 bytes' worth).
            %   SENDER is its source address as text ("127.0.0.1:5000"); TRUNCATED is true when
            %   the datagram was larger than COUNT values (its tail is lost, as with recvfrom).
            if nargin < 3
                datatype = "uint8";
            end
            width = libsock.Socket.datatypeSize(datatype);
            if nargin < 2 || isempty(count)
                count = floor(65535 / width);
            end
            if ~isscalar(count) || count < 1 || count ~= round(count)
                error('libsock:invalidArgument', 'read: COUNT must be a whole number >= 1');
            end
            cap = count * width;
            peerCap = double(libsock.LS_ADDRESS_MAX);
            [rc, buf, n, sender, ~, truncated] = calllib('libsock', 'ls_recv_from', obj.Handle, int32(libsock.LS_TIMEOUT_DEFAULT), zeros(1, cap, 'uint8'), uint64(cap), uint64(0), blanks(peerCap), uint64(peerCap), uint64(0), int32(0));
            libsock.check(rc);
            data = libsock.Socket.fromBytes(buf(1:double(n)), datatype, obj.ByteOrder);
            sender = string(sender);
            truncated = truncated ~= 0;
        end

        function configureMulticast(obj, group, varargin)
            %CONFIGUREMULTICAST  Join or leave a multicast group.
            %   configureMulticast(u, GROUP) joins GROUP ("239.1.2.3", "ff02::1234") on the
            %   default interface; configureMulticast(u, GROUP, INTERFACE) on an IPv4 interface
            %   address or an IPv6 interface index ("1"); configureMulticast(u, GROUP, INTERFACE,
            %   "off") or configureMulticast(u, "off", GROUP) leaves it.
            leave = false;
            if strcmpi(char(group), 'off')
                leave = true;
                group = varargin{1};
                varargin = varargin(2:end);
            end
            iface = char(libsock.Socket.optArg(varargin, 1, ''));
            if numel(varargin) >= 2 && strcmpi(char(varargin{2}), 'off')
                leave = true;
            end
            if leave
                leaveMulticast(obj, group, iface);
            else
                rc = calllib('libsock', 'ls_join_multicast', obj.Handle, char(group), iface);
                libsock.check(rc);
            end
        end

        function setMulticastInterface(obj, iface)
            %SETMULTICASTINTERFACE  Send multicast datagrams out of interface IFACE: an IPv4
            %   interface address ("127.0.0.1") or an IPv6 interface index ("1"); "" lets the OS
            %   choose. A malformed interface is 'libsock:invalidArgument', one this host does
            %   not have 'libsock:addrNotAvailable'.
            %
            %   Example:
            %       setMulticastInterface(u, "192.168.1.5");
            %       write(u, "hello", "char", "239.1.2.3", 5001)
            rc = calllib('libsock', 'ls_set_multicast_interface', obj.Handle, char(iface));
            libsock.check(rc);
        end

        function leaveMulticast(obj, group, iface)
            %LEAVEMULTICAST  Leave multicast group GROUP (joined with configureMulticast).
            %   leaveMulticast(u, GROUP) on the default interface; leaveMulticast(u, GROUP,
            %   INTERFACE) on the interface it was joined on. Same as configureMulticast(u,
            %   "off", GROUP).
            if nargin < 3 || isempty(iface)
                iface = '';
            end
            rc = calllib('libsock', 'ls_leave_multicast', obj.Handle, char(group), char(iface));
            libsock.check(rc);
        end
    end
end
