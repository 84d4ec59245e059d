function failed = libsock_surface_selftest()
%LIBSOCK_SURFACE_SELFTEST  The MATLAB classes' surface beyond the scenarios, in one session.
%   FAILED = libsock_surface_selftest() runs each check with libsock on both ends (a Listener
%   and the TcpClient it accepts, Udp sockets, engine objects), prints one line per check and a
%   final "matlab-surface-selftest: N passed, M failed" line, and returns M.
%
%   The scenarios are libsock_selftest (S01-S12) and libsock_engine_selftest (S13-S16); this
%   file runs what they leave out: flush and the other framings, multicast, every datatype in
%   both byte orders, delete and unload, an unconnected client, misuse errors and core's
%   messages, the EngineConfig properties (RemoveStale, an empty delimiter), the engine's checks
%   (bad frame, refused settings, a full send queue and its one warning), a message far above
%   MessageBufferSize, clientAddress, and DatagramServer details.
%   CI runs this very file under Octave, whose loadlibrary/calllib stand-ins live in
%   python-tests/matlab/octave (python-tests/test_matlab_path.py), and checks that together the
%   self-tests run every method that calls the library.
%
%   The helpers shared by the self-tests (pair, expectError, pumpUntil, ...) are in private/.
%
%   See also libsock_selftest, libsock_engine_selftest.

addpath(fullfile(fileparts(mfilename('fullpath')), '..'));
libsock.load();
tests = {@flush_and_framings, @udp_surface, @datatypes, @misuse, @unconnected_client, ...
    @engine_config, @engine_checks, @queue_full_warning, @large_message_and_address, ...
    @datagram_server, @delete_and_unload};
names = {'flush_and_framings', 'udp_surface', 'datatypes', 'misuse', 'unconnected_client', ...
    'engine_config', 'engine_checks', 'queue_full_warning', 'large_message_and_address', ...
    'datagram_server', 'delete_and_unload'};
failed = runSelftests('matlab-surface-selftest', tests, names);
end

function setProperty(obj, name, value)
%SETPROPERTY  obj.(NAME) = VALUE, as a function (for expectError).
obj.(name) = value;
end

function waitUntil(done, what)
%WAITUNTIL  Poll DONE() for up to 10 s.
t0 = tic;
while ~done()
    assert(toc(t0) < 10, 'timed out waiting for %s', what);
    pause(0.01);
end
end

function flush_and_framings(~)
%FLUSH_AND_FRAMINGS  read() takes what is there; HP-Socket PACK and fixed-size framing; flush;
%   the Timeout property.
[l, c, s] = pair();
assert(c.Timeout == 10);
c.Timeout = Inf;
assert(c.Timeout == Inf);
c.Timeout = 10;
write(s, 'junk junk junk');
waitUntil(@() c.NumBytesAvailable >= 14, '14 bytes');
assert(strcmp(read(c, 5, 'char'), 'junk '));
assert(numel(read(c)) == 9);  % read() takes what is available
write(s, uint8([5 0 0 0 double('hello')]));  % PACK header: flag 0, length 5
configureFraming(c, 'hppack', 0, 0);
assert(strcmp(readmsg(c, 'char'), 'hello'));
write(s, 'abcdef');
configureFraming(c, 'fixed', 3);
assert(strcmp(readmsg(c, 'char'), 'abc'));
configureFraming(c, 'raw');
waitUntil(@() c.NumBytesAvailable >= 3, '3 bytes');
flush(c, 'output');  % writes are handed to the OS at once: nothing to do
assert(c.NumBytesAvailable == 3);
flush(c);
assert(c.NumBytesAvailable == 0);
close(c); close(s); close(l);
end

function udp_surface(~)
%UDP_SURFACE  NumBytesAvailable is the next datagram's size; an empty datagram; typed reads;
%   multicast join and leave (refused in a container without multicast routes: then the error
%   must be one of libsock's).
a = libsock.Udp('LocalHost', '127.0.0.1');
b = libsock.Udp('LocalHost', '127.0.0.1', 'Timeout', 5);
assert(b.NumBytesAvailable == 0);
write(a, repmat(uint8(76), 1, 2000), 'uint8', '127.0.0.1', b.LocalPort);
waitUntil(@() b.NumBytesAvailable == 2000, 'the datagram');
[data, ~, truncated] = read(b, 2000);
assert(numel(data) == 2000 && ~truncated && all(data == 76));
write(a, int32([1 2 3]), 'int32', b.LocalAddress);
[data, sender, truncated] = read(b, 3, 'int32');
assert(isa(data, 'int32') && isequal(data, int32([1 2 3])) && ~truncated);
assert(strcmp(sender, a.LocalAddress));
write(a, zeros(1, 0, 'uint8'), 'uint8', b.LocalAddress);
[data, ~, truncated] = read(b, 10);
assert(isempty(data) && ~truncated);
close(a); close(b);
u = libsock.Udp('LocalHost', '0.0.0.0');
try
    configureMulticast(u, '239.255.12.34', '127.0.0.1');
    configureMulticast(u, 'off', '239.255.12.34', '127.0.0.1');
catch err
    assert(any(strcmp(err.identifier, {'libsock:io', 'libsock:addrNotAvailable', ...
        'libsock:unsupported'})), err.identifier);
end
delete(u);
end

function datatypes(~)
%DATATYPES  Every read/write datatype in both byte orders, checked against the bytes on the
%   wire; char codes.
[l, c, s] = pair();
values = [1 2 100 127];
types = {'uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'uint64', 'int64', ...
    'single', 'double'};
orders = {'little-endian', 'big-endian'};
[~, ~, hostEndian] = computer();
for o = 1:2
    c.ByteOrder = orders{o};
    for k = 1:numel(types)
        dt = types{k};
        write(c, values, dt);
        native = cast(values, dt);
        if (o == 2) == (hostEndian == 'L')  % the wire order differs from this machine's
            native = swapbytes(native);
        end
        want = typecast(native, 'uint8');
        raw = read(s, numel(want));
        assert(isequal(raw, want), '%s %s: wrong bytes on the wire', orders{o}, dt);
        write(s, raw);
        got = read(c, numel(values), dt);
        assert(isa(got, dt) && isequal(double(got), values), '%s %s: read back', orders{o}, dt);
    end
end
write(c, [104 105], 'char');  % character codes
assert(strcmp(read(s, 2, 'char'), 'hi'));
close(c); close(s); close(l);
end

function misuse(~)
%MISUSE  Wrong arguments and closed objects give libsock's errors, with core's message (the
%   same in every door); a write after our own shutdown is an I/O error (EPIPE); read(t, 0) is
%   empty.
[l, c, s] = pair();
assert(isempty(read(s, 0)));
s.Timeout = 0.2;
try
    read(s, 4);
    error('selftest:noError', 'read did not time out');
catch err
    assert(strcmp(err.identifier, 'libsock:timeout'), err.identifier);
    assert(strncmp(err.message, 'recv from 127.0.0.1:', 20), err.message);
    assert(~isempty(strfind(err.message, 'timed out after 200 ms')), err.message);
end
s.Timeout = 10;
expectError('libsock:invalidArgument', @() configureFraming(s, 'zigzag'));
expectError('libsock:invalidArgument', @() setOption(s, 'NoSuchOption', 1));
expectError('libsock:invalidArgument', @() libsock.check(libsock.LS_ERR_INVALID_ARGUMENT));
expectError('libsock:bufferTooSmall', @() libsock.check(libsock.LS_ERR_BUFFER_TOO_SMALL));
shutdown(c, 'write');
expectError('libsock:io', @() write(c, 'x'));
close(c);
expectError('libsock:badHandle', @() c.NumBytesAvailable);
close(s); close(l);
end

function unconnected_client(~)
%UNCONNECTED_CLIENT  TcpClient() without arguments holds no connection.
t = libsock.TcpClient();
assert(t.Handle == 0);
expectError('libsock:badHandle', @() read(t, 1));
close(t);
end

function engine_config(~)
%ENGINE_CONFIG  EngineConfig properties go to the library and come back; wrong values are
%   refused; framing and socket options for the connections.
cfg = libsock.EngineConfig('MaxClients', 7, 'HeartbeatInterval', 0.25, 'sendpolicy', 'disconnect');
assert(cfg.MaxClients == 7 && cfg.HeartbeatInterval == 0.25 && strcmp(cfg.SendPolicy, 'disconnect'));
assert(cfg.HeartbeatMisses == 3 && cfg.Reconnect && cfg.BackoffMin == 0.1);
assert(cfg.BackoffMax == 10 && cfg.ConnectTimeout == 10 && cfg.IdleTimeout == 0);
cfg.IdleTimeout = 1.5;
cfg.IdleMode = 'reads-and-writes';
cfg.Reconnect = false;
cfg.HeartbeatInterval = -1;
cfg.SendQueueBytes = 1048576;
assert(cfg.IdleTimeout == 1.5 && strcmp(cfg.IdleMode, 'reads-and-writes') && ~cfg.Reconnect);
assert(cfg.HeartbeatInterval == -1 && cfg.SendQueueBytes == 1048576);
expectError('libsock:invalidArgument', @() setProperty(cfg, 'HeartbeatMisses', -5));
expectError('libsock:invalidArgument', @() setProperty(cfg, 'MaxClients', NaN));
expectError('', @() setProperty(cfg, 'SendPolicy', 'drop'));  % not one of the choices
assert(~cfg.RemoveStale);
cfg.RemoveStale = true;
assert(cfg.RemoveStale);
assert(numel(libsock.EngineConfig.propertyNames()) == 18);  % every engine setting of core
configureFraming(cfg, 'delimited', 10);
% A delimiter given empty reaches the library and is refused; only an absent one is CR/LF.
empties = {'', [], uint8([])};
for k = 1:numel(empties)
    try
        configureFraming(cfg, 'delimited', empties{k});
        error('selftest:noError', 'an empty delimiter was accepted');
    catch err
        assert(strcmp(err.identifier, 'libsock:invalidArgument'), err.identifier);
        assert(~isempty(strfind(err.message, 'delim')), err.message);
    end
end
configureFraming(cfg, 'delimited');
setOption(cfg, 'NoDelay', 1);
expectError('libsock:invalidArgument', @() configureFraming(cfg, 'fixed', 0));
close(cfg);
close(cfg);  % twice: harmless
end

function engine_checks(~)
%ENGINE_CHECKS  A peer's wrong HP-Socket flag is libsock:badFrame; settings the engine refuses
%   are refused when the server is made.
[l, c, s] = pair();
write(s, [typecast(uint32(bitor(bitshift(uint32(340), 22), uint32(2))), 'uint8'), uint8('hi')]);
configureFraming(c, 'hppack', 341, 0);  % the flag on the wire is 340 (0x154)
expectError('libsock:badFrame', @() readmsg(c, 'char'));
assert(libsock.LS_ERR_BAD_FRAME == -20);
close(c); close(s); close(l);
expectError('libsock:invalidArgument', @() libsock.Server('127.0.0.1', 0, 'MaxClients', 0));
expectError('libsock:invalidArgument', @() libsock.Server('127.0.0.1', 0, 'HeartbeatInterval', 0.005));
end

function queue_full_warning(~)
%QUEUE_FULL_WARNING  A message larger than the send queue is libsock:frameTooLarge; a client
%   that does not read fills its queue: libsock:queueFull, broadcast skips it, stats count the
%   refusals, and exactly one "warning" event (Value LS_ERR_QUEUE_FULL) reports it.
cfg = libsock.EngineConfig('SendQueueBytes', 65536);
setOption(cfg, 'SendBufferSize', 8192);
srv = libsock.Server('127.0.0.1', 0, cfg);
slow = libsock.TcpClient('127.0.0.1', srv.Port);
setOption(slow, 'ReceiveBufferSize', 4096);  % and it never reads
ev = firstKind(pumpUntil(srv, @(e) countKind(e, 'connected') == 1, 10), 'connected');
client = ev.Client;
expectError('libsock:frameTooLarge', @() send(srv, client, zeros(1, 70000, 'uint8')));
chunk = zeros(1, 16384, 'uint8');
% Fill the queue without a refusal (send only while it fits; then wait until the engine moves
% nothing more into the kernel), so that the refusals below are one episode.
for k = 1:10000
    st = stats(srv);
    q = st.QueuedBytes;
    if q + numel(chunk) + 4 <= 65536
        send(srv, client, chunk);
        continue
    end
    pause(0.15);
    st = stats(srv);
    if st.QueuedBytes == q
        break
    end
end
expectError('libsock:queueFull', @() send(srv, client, chunk));
assert(broadcast(srv, chunk) == 0);  % skipped
st = stats(srv);
assert(st.SendQueueFull == 2 && st.AcceptErrors == 0, 'SendQueueFull %d', st.SendQueueFull);
events = libsock.EngineObject.noEvents();
while true
    got = waitEvents(srv, 0.3);
    if isempty(got)
        break
    end
    events = [events, got]; %#ok<AGROW>
end
assert(countKind(events, 'warning') == 1, '%d warnings', countKind(events, 'warning'));
w = firstKind(events, 'warning');
assert(w.Client == client && w.Value == libsock.LS_ERR_QUEUE_FULL);
close(slow);
delete(srv);
close(cfg);
end

function large_message_and_address(~)
%LARGE_MESSAGE_AND_ADDRESS  A message far above MessageBufferSize arrives whole; an empty
%   message; NumEventsAvailable, clientAddress, LocalAddress; typed send; broadcast EXCEPT.
srv = libsock.Server('127.0.0.1', 0);
assert(strcmp(srv.LocalAddress, sprintf('127.0.0.1:%d', srv.Port)));
c = libsock.TcpClient('127.0.0.1', srv.Port, 'Timeout', 10);
configureFraming(c, 'length', 4, 'big-endian');  % the engine's default framing
big = uint8(mod(0:262143, 256));  % 256 KiB
writemsg(c, big);
writemsg(c, zeros(1, 0, 'uint8'));
waitUntil(@() srv.NumEventsAvailable >= 3, 'connected and two messages');
ev = poll(srv, 1);
assert(strcmp(ev.Kind, 'connected'));
assert(strcmp(clientAddress(srv, ev.Client), ev.Peer));
assert(strcmp(ev.Peer, sprintf('127.0.0.1:%d', c.LocalPort)));
msg = poll(srv, 1);
assert(numel(msg) == 1 && isequal(msg.Data, big) && srv.MessageBufferSize == 4096);
msg = poll(srv);
assert(strcmp(msg(1).Kind, 'message') && isempty(msg(1).Data));
send(srv, ev.Client, [1 258], 'uint16');
assert(isequal(readmsg(c), uint8([1 0 2 1])));
d = libsock.TcpClient('127.0.0.1', srv.Port, 'Timeout', 10);
configureFraming(d, 'length', 4, 'big-endian');
pumpUntil(srv, @(e) countKind(e, 'connected') == 1, 10);
assert(broadcast(srv, uint8([1 2 3]), [], ev.Client) == 1);  % everyone but c
assert(isequal(readmsg(d), uint8([1 2 3])));
pause(0.1);
assert(c.NumBytesAvailable == 0);
expectError('libsock:closed', @() clientAddress(srv, 999));
close(c); close(d);
delete(srv);
end

function datagram_server(~)
%DATAGRAM_SERVER  Datagrams with their sender (an empty one, one above MessageBufferSize);
%   sendTo with a host and a port and a datatype; stats; the final "closed" event.
d = libsock.DatagramServer('127.0.0.1', 0, 'MaxDatagram', 65536);
u = libsock.Udp('LocalHost', '127.0.0.1', 'Timeout', 5);
write(u, 'one', 'char', '127.0.0.1', d.Port);
write(u, zeros(1, 0, 'uint8'), 'uint8', '127.0.0.1', d.Port);
write(u, repmat(uint8(120), 1, 10000), 'uint8', '127.0.0.1', d.Port);
events = pumpUntil(d, @(e) numel(e) >= 3, 10);
me = sprintf('127.0.0.1:%d', u.LocalPort);
assert(all(strcmp({events.Kind}, 'datagram')) && all(strcmp({events.Peer}, me)));
assert(strcmp(char(events(1).Data), 'one') && isempty(events(2).Data) && numel(events(3).Data) == 10000);
sendTo(d, int32([1 2]), '127.0.0.1', u.LocalPort, 'int32');
assert(isequal(read(u, 100), uint8([1 0 0 0 2 0 0 0])));
st = stats(d);
assert(st.MessagesIn == 3 && st.MessagesOut == 1);
libsock.shutdownEngine();
last = pumpUntil(d, @(e) countKind(e, 'closed') == 1, 10);
assert(strcmp(last(end).Kind, 'closed') && isempty(last(end).Peer) && d.Stopped);
close(u);
delete(d);
end

function delete_and_unload(~)
%DELETE_AND_UNLOAD  delete closes the handle (never reused); unload and load again.
[l, c, s] = pair();
h = c.Handle;
delete(c);
assert(calllib('libsock', 'ls_close', h) == libsock.LS_ERR_BAD_HANDLE);
close(s); close(l);
libsock.unload();
assert(~libisloaded('libsock'));
libsock.load();
assert(libisloaded('libsock'));
v = libsock.version();
assert(~isempty(v));
end
