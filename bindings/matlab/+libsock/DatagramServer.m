classdef DatagramServer < libsock.EngineObject
    %DATAGRAMSERVER  A UDP endpoint run by libsock's engine, polled like libsock.Server.
    %   d = libsock.DatagramServer(HOST, PORT) binds a UDP socket to HOST:PORT (PORT 0 picks a
    %   free one: d.Port); d = libsock.DatagramServer(PORT) binds "0.0.0.0".
    %   d = libsock.DatagramServer(..., CFG) or (..., Name, Value) takes libsock.EngineConfig
    %   settings (MaxDatagram, EventCapacity, socket options).
    %
    %   The engine receives datagrams on its own threads; poll(d) and waitEvents(d, TIMEOUT)
    %   return them as events with Kind "datagram", Data (uint8) and Peer, the sender's address
    %   ("192.168.1.20:5001"), which sendTo takes back for a reply. The last event of a stopped
    %   object is "closed". Unlike libsock.Udp nothing blocks MATLAB, so it fits a timer.
    %
    %   DatagramServer methods:
    %       poll, waitEvents  - take datagrams (see libsock.EngineObject)
    %       sendTo            - send one datagram to an address
    %       connect           - talk to one peer only (then send needs no address)
    %       send              - send one datagram to the connected peer
    %       stats             - counters (BytesIn, MessagesIn ...)
    %       close, delete     - stop and free the handle
    %
    %   Example:
    %       d = libsock.DatagramServer("0.0.0.0", 5001);
    %       for ev = poll(d)
    %           sendTo(d, ev.Data, ev.Peer);   % echo each datagram to its sender
    %       end
    %
    %   See also libsock.Server, libsock.Udp, libsock.EngineConfig.

    properties (SetAccess = private)
        %ADDRESS  The address asked for ("0.0.0.0:5001").
        Address = ""
    end

    properties (Dependent, SetAccess = private)
        %PORT  The real local port.
        Port
    end

    methods
        function obj = DatagramServer(host, port, varargin)
            %DATAGRAMSERVER  Bind (see the class help).
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
            rc = calllib('libsock', 'ls_dgram_server_bind', char(target), int64(cfgHandle), out);
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

        function sendTo(obj, data, host, port, datatype)
            %SENDTO  Send DATA as one datagram to HOST, PORT (or to one "host:port" text, such
            %   as an event's Peer). Numeric DATA goes as "uint8", text as "char";
            %   sendTo(d, DATA, HOST, PORT, DATATYPE) casts as libsock.TcpClient/write.
            %
            %   Example:
            %       sendTo(d, "pong", ev.Peer)
            if nargin < 4
                port = [];
            end
            if nargin < 5
                datatype = [];
            end
            target = libsock.Socket.formatAddress(host, port);
            [bytes, n] = libsock.Socket.engineBytes(data, datatype);
            rc = calllib('libsock', 'ls_dgram_server_send_to', obj.Handle, bytes, uint64(n), char(target));
            libsock.check(rc);
        end

        function connect(obj, host, port)
            %CONNECT  Talk to one peer only: HOST, PORT (or one "host:port" text, such as an
            %   event's Peer). Nothing is sent. From then on only that peer's datagrams are
            %   received, send goes to it without naming it (the kernel keeps the route: the
            %   cheapest send, for a client of one server), and an ICMP error for it (nothing
            %   listens there) makes the next send (or the next nextEvent that finds nothing
            %   queued) throw libsock:connectionRefused. sendTo still sends anywhere;
            %   connecting again moves to another peer.
            %
            %   Example:
            %       connect(d, "127.0.0.1", 5001);
            %       send(d, "ping")
            if nargin < 3
                port = [];
            end
            target = libsock.Socket.formatAddress(host, port);
            rc = calllib('libsock', 'ls_dgram_server_connect', obj.Handle, char(target));
            libsock.check(rc);
        end

        function send(obj, data, datatype)
            %SEND  Send DATA as one datagram to the peer given to connect (libsock:invalidArgument
            %   if connect was never called). Numeric DATA goes as "uint8", text as "char";
            %   send(d, DATA, DATATYPE) casts as libsock.TcpClient/write.
            %
            %   Example:
            %       send(d, uint8([1 2 3]))
            if nargin < 3
                datatype = [];
            end
            [bytes, n] = libsock.Socket.engineBytes(data, datatype);
            rc = calllib('libsock', 'ls_dgram_server_send', obj.Handle, bytes, uint64(n));
            libsock.check(rc);
        end
    end

    methods (Access = protected)
        function [ok, ev] = nextEvent(obj, ms)
            %NEXTEVENT  Take one datagram with its sender (ls_next_datagram), waiting up to MS
            %   milliseconds; a buffer too small grows to the reported size (the datagram stays
            %   queued meanwhile).
            ev = [];
            ok = false;
            if obj.Stopped
                return
            end
            cap = obj.MessageBufferSize;
            peerCap = double(libsock.LS_ADDRESS_MAX);
            [rc, kind, buf, n, peer] = calllib('libsock', 'ls_next_datagram', obj.Handle, int32(ms), int32(0), zeros(1, cap, 'uint8'), uint64(cap), uint64(0), blanks(peerCap), uint64(peerCap), uint64(0));
            while rc == libsock.LS_ERR_BUFFER_TOO_SMALL
                cap = double(n);
                [rc, kind, buf, n, peer] = calllib('libsock', 'ls_next_datagram', obj.Handle, int32(libsock.LS_TIMEOUT_POLL), int32(0), zeros(1, cap, 'uint8'), uint64(cap), uint64(0), blanks(peerCap), uint64(peerCap), uint64(0));
            end
            if rc == libsock.LS_ERR_TIMEOUT
                return
            end
            if rc == libsock.LS_ERR_CLOSED
                obj.Stopped = true;
                return
            end
            libsock.check(rc);
            ev = libsock.EngineObject.makeEvent(kind, 0, 0, buf(1:double(n)));
            if kind == libsock.LS_EVENT_DATAGRAM
                ev.Peer = string(peer);
            elseif kind == libsock.LS_EVENT_CLOSED
                obj.Stopped = true;
            end
            ok = true;
        end
    end
end
