function failed = libsock_parity_selftest()
%LIBSOCK_PARITY_SELFTEST  What the MATLAB door gained to match the other doors (issue 16).
%   FAILED = libsock_parity_selftest() runs each check with libsock on both ends in one session
%   (a Listener and the TcpClient it accepts, Udp sockets, an engine Server), prints one line
%   per check and a final "matlab-parity-selftest: N passed, M failed" line, and returns M:
%     framing_offset_adjustment  configureFraming "length" with Offset, HeaderLen, Adjustment
%                                and KeepHeader, on a connection and on an EngineConfig
%     batch_messages             sendMsgs/recvMsgs (an empty and a large message, the batch
%                                bound, byte order, nothing sent when one is too large)
%     server_send_many           Server.sendMany to two of three clients and an unknown id
%     send_file_recv_file        TcpClient.sendFile (whole, and a range) into recvFile
%     leave_multicast            Udp.leaveMulticast
%     engine_batches_and_client_stats  Server.sendBatch, Client.sendBatch (also while not yet
%                                connected), Server.clientStats
%     multicast_interface        Udp.setMulticastInterface: a datagram to a group joined on
%                                loopback arrives; bad interfaces are refused
%   CI runs it under Octave (python-tests/test_matlab_path.py) with the other self-tests.
%
%   See also libsock_surface_selftest, libsock_selftest.

addpath(fullfile(fileparts(mfilename('fullpath')), '..'));
libsock.load();
tests = {@framing_offset_adjustment, @batch_messages, @server_send_many, ...
    @send_file_recv_file, @leave_multicast, @engine_batches_and_client_stats, ...
    @multicast_interface};
names = {'framing_offset_adjustment', 'batch_messages', 'server_send_many', ...
    'send_file_recv_file', 'leave_multicast', 'engine_batches_and_client_stats', ...
    'multicast_interface'};
failed = runSelftests('matlab-parity-selftest', tests, names);
end

function framing_offset_adjustment(~)
%FRAMING_OFFSET_ADJUSTMENT  A 6-byte header: 2 magic bytes, then a 4-byte big-endian length
%   that counts the whole frame (Adjustment -6); stripped, then kept (KeepHeader: writemsg's
%   header gets its length field filled in). A 2-byte little-endian field at offset 1 of a
%   4-byte header counting one byte less than the body (Adjustment +1). The same framing on an
%   EngineConfig frames a Server's messages. Bad settings are libsock:invalidArgument.
[l, c, s] = pair();
configureFraming(c, 'length', 4, 'big-endian', 0, 'Offset', 2, 'HeaderLen', 6, 'Adjustment', -6);
write(s, uint8([171 205 0 0 0 11 double('hello')]));
assert(strcmp(readmsg(c, 'char'), 'hello'));
% Two frames in one write: each is cut by its own length field.
write(s, uint8([171 205 0 0 0 8 double('ab') 171 205 0 0 0 9 double('cde')]));
assert(strcmp(readmsg(c, 'char'), 'ab') && strcmp(readmsg(c, 'char'), 'cde'));
configureFraming(c, 'length', 4, 'big-endian', 0, 'Offset', 2, 'HeaderLen', 6, ...
    'Adjustment', -6, 'KeepHeader', true);
writemsg(c, uint8([171 205 0 0 0 0 double('world')]));
got = read(s, 11);
assert(isequal(got, uint8([171 205 0 0 0 11 double('world')])), 'header %s', mat2str(got(1:6)));
write(s, uint8([171 205 0 0 0 7 double('x')]));
assert(isequal(readmsg(c), uint8([171 205 0 0 0 7 double('x')])));
% Offset 1, HeaderLen 4, little-endian 2-byte field = body length - 1.
configureFraming(c, 'length', 2, 'little-endian', 0, 'Offset', 1, 'HeaderLen', 4, 'Adjustment', 1);
write(s, uint8([9 4 0 9 double('12345')]));
assert(strcmp(readmsg(c, 'char'), '12345'));
writemsg(c, 'abc');
assert(isequal(read(s, 7), uint8([0 2 0 0 double('abc')])));
% The header must hold the field; a name without a value; an unknown name.
expectError('libsock:invalidArgument', @() configureFraming(c, 'length', 4, 'big-endian', 0, 'Offset', 3, 'HeaderLen', 4));
expectError('libsock:invalidArgument', @() configureFraming(c, 'length', 4, 'big-endian', 0, 'Offset'));
expectError('libsock:invalidArgument', @() configureFraming(c, 'length', 4, 'Offset', 1.5));
% The engine: a Server whose config has the 6-byte header.
cfg = libsock.EngineConfig();
configureFraming(cfg, 'length', 4, 'big-endian', 0, 'Offset', 2, 'HeaderLen', 6, 'Adjustment', -6);
srv = libsock.Server('127.0.0.1', 0, cfg);
t = libsock.TcpClient('127.0.0.1', srv.Port, 'Timeout', 10);
write(t, uint8([171 205 0 0 0 10 double('ping')]));
events = pumpUntil(srv, @(e) countKind(e, 'message') == 1, 10);
ev = firstKind(events, 'message');
assert(strcmp(char(ev.Data), 'ping'), char(ev.Data));
send(srv, ev.Client, 'pong');
reply = read(t, 10);
assert(isequal(reply(5:6), uint8([0 10])) && strcmp(char(reply(7:10)), 'pong'), mat2str(reply));
close(t);
delete(srv);
close(cfg);
close(c); close(s); close(l);
end

function batch_messages(~)
%BATCH_MESSAGES  sendMsgs sends a cell array of messages (text, numbers, an empty one, one
%   far above MessageBufferSize) in one call; recvMsgs takes them in one call, at most MAXCOUNT
%   at a time and converted to a datatype; a batch with one message above the
%   framing's maximum sends none of them.
[l, c, s] = pair();
configureFraming(c, 'length', 4, 'big-endian');
configureFraming(s, 'length', 4, 'big-endian', 100000);
big = uint8(mod(0:99999, 251));
sendMsgs(c, {'one', uint8([1 2 3]), '', big, 'last'});
c.MessageBufferSize = 1024;
s.MessageBufferSize = 1024;
got = {};
t0 = tic;
while numel(got) < 5
    assert(toc(t0) < 10, 'only %d messages', numel(got));
    got = [got, recvMsgs(s, 5)]; %#ok<AGROW>
end
assert(numel(got) == 5);
assert(isequal(got{1}, uint8('one')) && isequal(got{2}, uint8([1 2 3])) && isempty(got{3}));
assert(isequal(got{4}, big) && isequal(got{5}, uint8('last')));
% The blocking connection's counters (stats): five messages each way's count, frames' bytes.
frames = 5 * 4 + 3 + 3 + 0 + numel(big) + 4;
sc = stats(c);
ss = stats(s);
assert(sc.MessagesOut == 5 && sc.BytesOut == frames && sc.MessagesIn == 0, 'sender %d %d', sc.MessagesOut, sc.BytesOut);
assert(ss.MessagesIn == 5 && ss.BytesIn == frames && ss.QueuedBytes == 0 && ~ss.Tls);
assert(ss.ConnectedSince > 1.6e9);
% The bound: three queued, two taken, then the third.
sendMsgs(c, {'a', 'bb', 'ccc'});
first = recvMsgs(s, 2, 'char');
assert(numel(first) >= 1 && numel(first) <= 2 && strcmp(first{1}, 'a'));
rest = {};
while numel(first) + numel(rest) < 3
    rest = [rest, recvMsgs(s, 2, 'char')]; %#ok<AGROW>
end
all3 = [first, rest];
assert(strcmp(all3{2}, 'bb') && strcmp(all3{3}, 'ccc'));
% Big-endian int16 values through the batch.
c.ByteOrder = 'big-endian';
s.ByteOrder = 'big-endian';
sendMsgs(c, {int16([-2 300])}, 'int16');
m = recvMsgs(s, 1, 'int16');
assert(isequal(m{1}, int16([-2 300])));
% One message above the sender's maximum: none goes out.
configureFraming(c, 'length', 4, 'big-endian', 10);
expectError('libsock:frameTooLarge', @() sendMsgs(c, {'ok', repmat('x', 1, 11)}));
sendMsgs(c, {'after'});
m = recvMsgs(s, 4, 'char');
assert(numel(m) == 1 && strcmp(m{1}, 'after'), 'got %d: %s', numel(m), m{1});
% Nothing waiting: the default Timeout applies, here 0.2 s.
s.Timeout = 0.2;
expectError('libsock:timeout', @() recvMsgs(s, 4));
expectError('libsock:invalidArgument', @() recvMsgs(s, 0));
sendMsgs(c, {});  % nothing to send: no call
close(c);
expectError('libsock:closed', @() recvMsgs(s, 4));
close(s); close(l);
end

function server_send_many(~)
%SERVER_SEND_MANY  sendMany queues one message to two of three clients (and skips an unknown
%   id): they get it, the third's next message is a later broadcast.
srv = libsock.Server('127.0.0.1', 0);
t = cell(1, 3);
for k = 1:3
    t{k} = libsock.TcpClient('127.0.0.1', srv.Port, 'Timeout', 10);
    configureFraming(t{k}, 'length', 4, 'big-endian');
end
pumpUntil(srv, @(e) countKind(e, 'connected') == 3, 10);
ids = srv.Clients;
assert(numel(ids) == 3);
% Which id is which client: each client says its number.
for k = 1:3
    writemsg(t{k}, sprintf('%d', k));
end
events = pumpUntil(srv, @(e) countKind(e, 'message') == 3, 10);
idOf = zeros(1, 3, 'uint64');
for ev = events
    if strcmp(ev.Kind, 'message')
        idOf(str2double(char(ev.Data))) = ev.Client;
    end
end
sent = sendMany(srv, [idOf(1), idOf(3), uint64(999999)], 'to some');
assert(sent == 2, 'sent to %d', sent);
assert(sendMany(srv, zeros(1, 0, 'uint64'), 'nobody') == 0);
assert(broadcast(srv, 'to all') == 3);
assert(strcmp(readmsg(t{1}, 'char'), 'to some') && strcmp(readmsg(t{1}, 'char'), 'to all'));
assert(strcmp(readmsg(t{3}, 'char'), 'to some') && strcmp(readmsg(t{3}, 'char'), 'to all'));
assert(strcmp(readmsg(t{2}, 'char'), 'to all'));
expectError('libsock:frameTooLarge', @() sendMany(srv, idOf, zeros(1, 5000000, 'uint8')));
for k = 1:3
    close(t{k});
end
delete(srv);
end

function send_file_recv_file(~)
%SEND_FILE_RECV_FILE  sendFile sends a whole file and a range of it; recvFile writes exactly
%   the bytes asked for into a new file; a missing file is an error naming it.
[l, c, s] = pair();
dir0 = tempname();
mkdir(dir0);
src = fullfile(dir0, 'src.bin');
data = uint8(mod((0:39999) * 7, 256));
fid = fopen(src, 'w');
fwrite(fid, data, 'uint8');
fclose(fid);
assert(sendFile(c, src) == 40000);
dst = fullfile(dir0, 'dst.bin');
assert(recvFile(s, dst, 40000) == 40000);
fid = fopen(dst, 'r');
back = fread(fid, Inf, 'uint8=>uint8')';
fclose(fid);
assert(isequal(back, data));
assert(sendFile(c, src, 1000, 500) == 500);
part = fullfile(dir0, 'part.bin');
assert(recvFile(s, part, 500) == 500);
fid = fopen(part, 'r');
back = fread(fid, Inf, 'uint8=>uint8')';
fclose(fid);
assert(isequal(back, data(1001:1500)));
try
    sendFile(c, fullfile(dir0, 'missing.bin'));
    error('selftest:noError', 'a missing file was sent');
catch err
    assert(strncmp(err.identifier, 'libsock:', 8) && ~isempty(strfind(err.message, 'missing.bin')), ...
        '%s: %s', err.identifier, err.message);
end
% The peer finishes early: recvFile throws libsock:closed.
write(c, uint8(1:10));
close(c);
expectError('libsock:closed', @() recvFile(s, fullfile(dir0, 'short.bin'), 100));
close(s); close(l);
delete(src); delete(dst); delete(part);
if exist(fullfile(dir0, 'short.bin'), 'file')
    delete(fullfile(dir0, 'short.bin'));
end
rmdir(dir0);
end

function leave_multicast(~)
%LEAVE_MULTICAST  Join a group, leave it with leaveMulticast; leaving again is an error of
%   libsock's (the host may refuse multicast altogether: then the join's error must be one of
%   libsock's).
u = libsock.Udp('LocalHost', '0.0.0.0');
joined = false;
try
    configureMulticast(u, '239.255.12.35', '127.0.0.1');
    joined = true;
catch err
    assert(any(strcmp(err.identifier, {'libsock:io', 'libsock:addrNotAvailable', ...
        'libsock:unsupported'})), err.identifier);
end
if joined
    leaveMulticast(u, '239.255.12.35', '127.0.0.1');
    expectError('', @() leaveMulticast(u, '239.255.12.35', '127.0.0.1'));
end
delete(u);
end

function engine_batches_and_client_stats(~)
%ENGINE_BATCHES_AND_CLIENT_STATS  A Client queues a batch before it is connected; it arrives
%   whole and in order; the server answers with a batch; clientStats counts both ways; a batch
%   with one message above SendQueueBytes queues none; an unknown client is libsock:closed.
srv = libsock.Server('127.0.0.1', 0, 'SendQueueBytes', 65536);
cli = libsock.Client('127.0.0.1', srv.Port);
assert(sendBatch(cli, {'one', uint8([2 2]), 'three'}) == 3);  % queued at once, connected or not
events = pumpUntil(srv, @(e) countKind(e, 'message') == 3, 10);
msgs = events(strcmp({events.Kind}, 'message'));
assert(strcmp(char(msgs(1).Data), 'one') && isequal(reshape(msgs(2).Data, 1, []), uint8([2 2])) ...
    && strcmp(char(msgs(3).Data), 'three'));
id = msgs(1).Client;
assert(sendBatch(srv, id, {'a', 'bb', 'ccc', 'dddd'}, [], 5) == 4);
events = pumpUntil(cli, @(e) countKind(e, 'message') == 4, 10);
msgs = events(strcmp({events.Kind}, 'message'));
assert(strcmp(char([msgs.Data]), 'abbcccdddd'));
% The engine counts a write when the write call returns, which may come after the client already
% read the bytes: wait (bounded) for the count.
for k = 1:1000
  st = clientStats(srv, id);
  if st.MessagesOut >= 4
    break;
  end
  pause(0.005);
end
st = clientStats(srv, id);
assert(st.MessagesIn == 3 && st.MessagesOut == 4 && st.BytesIn == 3 * 4 + 3 + 2 + 5 ...
    && st.BytesOut >= 4 * 4 + 10 && ~st.Tls && st.ConnectedSince > 1.6e9, ...
    'in %d/%d out %d/%d since %g', st.MessagesIn, st.BytesIn, st.MessagesOut, st.BytesOut, st.ConnectedSince);
assert(abs(st.ConnectedSince - (now() - datenum(1970, 1, 1)) * 86400) < 3600 * 24, 'since %g', st.ConnectedSince);
expectError('libsock:frameTooLarge', @() sendBatch(srv, id, {'ok', zeros(1, 70000, 'uint8')}));
expectError('libsock:closed', @() clientStats(srv, uint64(123456)));
assert(sendBatch(srv, id, {}) == 0);
close(cli);
delete(srv);
end

function multicast_interface(~)
%MULTICAST_INTERFACE  A sender whose multicast interface is loopback reaches a receiver that
%   joined the group on loopback (where the host allows multicast at all); a malformed
%   interface is libsock:invalidArgument, an address this host lacks libsock:addrNotAvailable.
group = '239.255.12.36';
rx = libsock.Udp('LocalHost', '0.0.0.0', 'Timeout', 5);
tx = libsock.Udp('LocalHost', '127.0.0.1');
expectError('libsock:invalidArgument', @() setMulticastInterface(tx, 'not-an-interface'));
expectError('libsock:addrNotAvailable', @() setMulticastInterface(tx, '192.0.2.123'));
setMulticastInterface(tx, '127.0.0.1');
setMulticastInterface(tx, '');  % the OS's choice again
setMulticastInterface(tx, '127.0.0.1');
joined = false;
try
    configureMulticast(rx, group, '127.0.0.1');
    joined = true;
catch err
    assert(any(strcmp(err.identifier, {'libsock:io', 'libsock:addrNotAvailable', ...
        'libsock:unsupported'})), err.identifier);
end
if joined
    write(tx, 'to the group', 'char', group, rx.LocalPort);
    [data, sender] = read(rx, 100, 'char');
    assert(strcmp(data, 'to the group') && strcmp(sender, tx.LocalAddress), '%s from %s', data, sender);
end
delete(rx);
delete(tx);
end
