function failed = libsock_engine_selftest(nClients, nMessages)
%LIBSOCK_ENGINE_SELFTEST  Scenarios S13-S16 (docs/SCENARIOS.md) for libsock.Server, libsock.Client
%   and libsock.EngineConfig, and libsock.DatagramServer, in one MATLAB session.
%   FAILED = libsock_engine_selftest() runs each scenario with libsock.TcpClient clients (or a
%   libsock.Client) in this same session, prints one line per scenario and a final
%   "matlab-engine-selftest: N passed, M failed" line, and returns M.
%   libsock_engine_selftest(NCLIENTS, NMESSAGES) sets S13's size (default 50 clients x 100
%   messages).
%
%   MATLAB is single-threaded here, but the engine is not: it accepts, reads and reconnects on
%   libsock's own threads while this code writes with the blocking TcpClient, so the server is
%   simply polled between the steps, as a timer callback would. S17 (a call blocked in another
%   thread) needs a second MATLAB thread, which MATLAB code does not have: no MATLAB scenario.
%   CI runs this very file under Octave (python-tests/matlab/octave stands in for
%   loadlibrary/calllib).
%
%   See also libsock.Server, libsock.Client, libsock.EngineConfig, libsock_selftest.

if nargin < 1
    nClients = 50;
end
if nargin < 2
    nMessages = 100;
end
addpath(fullfile(fileparts(mfilename('fullpath')), '..'));
libsock.load();
tests = {@(~) s13_echo(nClients, nMessages), @s14_broadcast, @s15_reconnect, ...
    @s16_heartbeat, @config_readback, @datagram_server, @datagram_server_connect, @shutdown_engine};
names = {'s13_echo', 's14_broadcast', 's15_reconnect', 's16_heartbeat', 'config_readback', ...
    'datagram_server', 'datagram_server_connect', 'shutdown_engine'};
failed = runSelftests('matlab-engine-selftest', tests, names);
end

function s13_echo(nClients, nMessages)
%S13_ECHO  NCLIENTS TcpClients each send NMESSAGES framed messages; the server echoes them.
s = libsock.Server('127.0.0.1', 0, 'MaxClients', nClients + 10);
s.MessageBufferSize = 8;  % most events take the grow-and-retry path
clients = cell(1, nClients);
for i = 1:nClients
    c = libsock.TcpClient('127.0.0.1', s.Port, 'Timeout', 10);
    configureFraming(c, 'length', 4, 'big-endian');  % the engine's default framing
    clients{i} = c;
end
for i = 1:nClients
    for j = 1:nMessages
        writemsg(clients{i}, sprintf('c%d-m%d', i, j));
    end
end
echoed = 0;
connected = 0;
t0 = tic;
while echoed < nClients * nMessages
    assert(toc(t0) < 60, 'echoed %d of %d', echoed, nClients * nMessages);
    events = waitEvents(s, 0.05);
    for k = 1:numel(events)
        ev = events(k);
        if strcmp(ev.Kind, 'connected')
            connected = connected + 1;
        elseif strcmp(ev.Kind, 'message')
            send(s, ev.Client, ev.Data);
            echoed = echoed + 1;
        end
    end
end
assert(connected == nClients, 'connected %d', connected);
for i = 1:nClients
    for j = 1:nMessages
        got = readmsg(clients{i}, 'char');
        assert(strcmp(got, sprintf('c%d-m%d', i, j)), 'client %d message %d: %s', i, j, got);
    end
end
st = stats(s);
assert(st.MessagesIn == nClients * nMessages && st.Connections == nClients);
assert(numel(s.Clients) == nClients);
for i = 1:nClients
    close(clients{i});
end
events = pumpUntil(s, @(e) countKind(e, 'disconnected') == nClients, 10);
assert(strcmp(firstKind(events, 'disconnected').Reason, 'peer-closed'));
shutdown(s, 1);
events = pumpUntil(s, @(e) countKind(e, 'closed') == 1, 10);
assert(s.Stopped && isempty(poll(s)));
delete(s);
end

function s14_broadcast(~)
%S14_BROADCAST  A broadcast reaches each of 50 TcpClients exactly once.
s = libsock.Server('127.0.0.1', 0);
clients = cell(1, 50);
for i = 1:50
    clients{i} = libsock.TcpClient('127.0.0.1', s.Port, 'Timeout', 10);
    configureFraming(clients{i}, 'length', 4, 'big-endian');
end
events = pumpUntil(s, @(e) countKind(e, 'connected') == 50, 10);
assert(numel(s.Clients) == 50);
sent = broadcast(s, 'hello all');
assert(sent == 50, 'sent to %d', sent);
for i = 1:50
    assert(strcmp(readmsg(clients{i}, 'char'), 'hello all'));
end
pause(0.1);
for i = 1:50
    assert(clients{i}.NumBytesAvailable == 0, 'client %d got more', i);  % exactly once
end
first = firstKind(events, 'connected').Client;
disconnect(s, first, false);
ev = firstKind(pumpUntil(s, @(e) countKind(e, 'disconnected') == 1, 10), 'disconnected');
assert(strcmp(ev.Reason, 'kicked') && ev.Client == first);
assert(broadcast(s, uint8([1 2 3])) == 49);
delete(s);
end

function s15_reconnect(~)
%S15_RECONNECT  A Client outlives its server; messages queued meanwhile arrive once, in order.
cfg = libsock.EngineConfig('BackoffMin', 0.05, 'BackoffMax', 0.2, 'Jitter', false);
s = libsock.Server('127.0.0.1', 0);
port = s.Port;
c = libsock.Client('127.0.0.1', port, cfg);
pumpUntil(c, @(e) countKind(e, 'connected') == 1, 10);
assert(c.Connected);
shutdown(s, 0);
close(s);
pumpUntil(c, @(e) countKind(e, 'disconnected') == 1, 10);
for j = 1:20
    send(c, sprintf('queued-%d', j));
end
pause(0.3);
s2 = [];
for attempt = 1:50
    try
        s2 = libsock.Server('127.0.0.1', port);
        break
    catch err
        assert(strcmp(err.identifier, 'libsock:addrInUse'), err.message);
        pause(0.1);
    end
end
events = pumpUntil(s2, @(e) countKind(e, 'message') == 20, 10);
pause(0.2);
events = [events, poll(s2)];
assert(countKind(events, 'message') == 20, 'messages %d', countKind(events, 'message'));
j = 0;
for k = 1:numel(events)
    if strcmp(events(k).Kind, 'message')
        j = j + 1;
        assert(strcmp(char(events(k).Data), sprintf('queued-%d', j)));
    end
end
assert(countKind(pumpUntil(c, @(e) countKind(e, 'connected') == 1, 10), 'connected') == 1);
close(c, 1);   % graceful close(grace) (docs/NAMES.md; disconnect(c, 1) before)
delete(c);
delete(s2);
end

function s16_heartbeat(~)
%S16_HEARTBEAT  A peer that never answers pings is dropped within interval x misses + slack.
s = libsock.Server('127.0.0.1', 0, 'HeartbeatInterval', 0.2, 'HeartbeatMisses', 2);
peer = libsock.TcpClient('127.0.0.1', s.Port);  % never reads, never answers
t0 = tic;
ev = firstKind(pumpUntil(s, @(e) countKind(e, 'disconnected') == 1, 10), 'disconnected');
dt = toc(t0);
assert(strcmp(ev.Reason, 'heartbeat-lost'), ev.Reason);
assert(dt >= 0.2 && dt <= 1.4, 'took %g s', dt);
close(peer);
delete(s);
end

function config_readback(~)
%CONFIG_READBACK  EngineConfig properties go to the library and come back.
cfg = libsock.EngineConfig('MaxClients', 7, 'SendPolicy', 'disconnect');
assert(cfg.MaxClients == 7 && strcmp(cfg.SendPolicy, 'disconnect'));
assert(cfg.HeartbeatMisses == 3 && cfg.BackoffMax == 10 && cfg.Reconnect);
cfg.IdleTimeout = 1.5;
assert(cfg.IdleTimeout == 1.5);
configureFraming(cfg, 'delimited', [13 10]);
try
    cfg.HeartbeatMisses = -1;
    error('selftest:noError', 'HeartbeatMisses -1 was accepted');
catch err
    assert(strcmp(err.identifier, 'libsock:invalidArgument'), err.identifier);
end
close(cfg);
end

function datagram_server(~)
%DATAGRAM_SERVER  A DatagramServer gets libsock.Udp datagrams with their sender and replies.
d = libsock.DatagramServer('127.0.0.1', 0);
u = libsock.Udp('LocalHost', '127.0.0.1', 'LocalPort', 0, 'Timeout', 5);
write(u, uint8([1 2 3]), 'uint8', '127.0.0.1', d.Port);
write(u, repmat(uint8(7), 1, 9000), 'uint8', '127.0.0.1', d.Port);  % above MessageBufferSize
events = pumpUntil(d, @(e) numel(e) >= 2, 10);
me = sprintf('127.0.0.1:%d', u.LocalPort);
assert(strcmp(events(1).Kind, 'datagram') && strcmp(events(1).Peer, me), events(1).Peer);
assert(isequal(events(1).Data, uint8([1 2 3])) && numel(events(2).Data) == 9000);
sendTo(d, 'pong', events(1).Peer);
[data, sender] = read(u, 100, 'char');
assert(strcmp(data, 'pong') && strcmp(sender, sprintf('127.0.0.1:%d', d.Port)));
close(u);
delete(d);
end

function datagram_server_connect(~)
%DATAGRAM_SERVER_CONNECT  A DatagramServer connected to one libsock.Udp peer: send before
%   connect is libsock:invalidArgument; then send reaches the peer from the server's address and
%   the peer's replies come back with the peer as sender, a stranger's datagram is not received,
%   sendTo still reaches anyone, and a peer where nothing listens fails a later send with
%   libsock:connectionRefused.
d = libsock.DatagramServer('127.0.0.1', 0);
u = libsock.Udp('LocalHost', '127.0.0.1', 'LocalPort', 0, 'Timeout', 5);
x = libsock.Udp('LocalHost', '127.0.0.1', 'LocalPort', 0, 'Timeout', 5);
server = sprintf('127.0.0.1:%d', d.Port);
peer = sprintf('127.0.0.1:%d', u.LocalPort);
expectError('libsock:invalidArgument', @() send(d, 'early'));
expectError('libsock:invalidArgument', @() connect(d, 'nonsense'));
connect(d, '127.0.0.1', u.LocalPort);
write(x, 'stranger', 'char', '127.0.0.1', d.Port);  % the kernel drops it: d is connected to u
for k = 1:5
    msg = sprintf('req-%d', k);
    if mod(k, 2)
        send(d, msg);
    else
        send(d, uint8(msg));
    end
    [data, sender] = read(u, 100, 'char');
    assert(strcmp(data, msg), 'round %d: the peer got "%s"', k, data);
    assert(strcmp(sender, server), 'round %d: from %s, wanted %s', k, sender, server);
    write(u, ['rep-' msg], 'char', '127.0.0.1', d.Port);
    events = waitEvents(d, 5);
    assert(numel(events) == 1, 'round %d: %d events', k, numel(events));
    assert(strcmp(events(1).Kind, 'datagram'), 'round %d: %s', k, events(1).Kind);
    assert(strcmp(char(events(1).Data), ['rep-' msg]), 'round %d: the reply "%s"', k, char(events(1).Data));
    assert(strcmp(events(1).Peer, peer), 'round %d: reply from %s, wanted %s', k, events(1).Peer, peer);
end
late = waitEvents(d, 0.05);
assert(isempty(late), 'the stranger''s datagram was received');
st = stats(d);
assert(st.MessagesIn == 5, 'datagrams in: %d', st.MessagesIn);
sendTo(d, 'direct', '127.0.0.1', x.LocalPort);  % sendTo still sends anywhere
[data, sender] = read(x, 100, 'char');
assert(strcmp(data, 'direct') && strcmp(sender, server), '%s from %s', data, sender);
gone = x.LocalPort;
close(x);
connect(d, sprintf('127.0.0.1:%d', gone));  % nothing listens there now
refused = '';
for k = 1:50
    try
        send(d, 'anyone?');
        pause(0.01);
    catch err
        refused = err.identifier;
        break
    end
end
assert(strcmp(refused, 'libsock:connectionRefused'), 'send to a closed port: "%s"', refused);
close(u);
delete(d);
end

function shutdown_engine(~)
%SHUTDOWN_ENGINE  libsock.shutdownEngine stops a server; a new server starts the engine again.
s = libsock.Server('127.0.0.1', 0);
libsock.shutdownEngine();
events = pumpUntil(s, @(e) countKind(e, 'closed') == 1, 10);
assert(s.Stopped && strcmp(events(end).Kind, 'closed'));
delete(s);
s2 = libsock.Server('127.0.0.1', 0);
assert(s2.Port > 0);
delete(s2);
end
