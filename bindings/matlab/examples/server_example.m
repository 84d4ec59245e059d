function server_example(useTimer)
%SERVER_EXAMPLE  A multi-client echo server in MATLAB, driven by a timer: libsock.Server.
%   server_example() starts a libsock.Server on a free port, polls it from a MATLAB timer
%   (every 50 ms, never blocking MATLAB), connects three libsock.TcpClient clients from this
%   same session, echoes their messages, broadcasts to all, shows the stats and shuts down.
%   server_example(false) calls the same callback from a loop instead of a timer (Octave, which
%   CI runs it with, has no timer object).
%
%   Run it from any folder after building the library (cargo build -p libsock-c --release):
%
%       addpath('bindings/matlab/examples'); server_example
%
%   The engine accepts and reads on libsock's own threads, so clients connect and their
%   messages queue up while MATLAB is busy; the timer callback only takes what is waiting
%   (poll) and answers (send, which queues and returns at once). The server's events reach
%   MATLAB only through poll: nothing calls into MATLAB from another thread.
%
%   See also libsock.Server, libsock.EngineConfig, timer.

if nargin < 1
    useTimer = exist('timer', 'file') == 2 && ~exist('OCTAVE_VERSION', 'builtin');
end
addpath(fullfile(fileparts(mfilename('fullpath')), '..'));  % the folder that holds +libsock
libsock.load();

% Settings: at most 100 clients, a dead peer is dropped after 3 x 1 s without an answer to
% the heartbeat ping. Framing: the default 4-byte big-endian length before each message.
cfg = libsock.EngineConfig("MaxClients", 100, "HeartbeatInterval", 1, "HeartbeatMisses", 3);
server = libsock.Server("127.0.0.1", 0, cfg);
fprintf('server_example: listening on port %d\n', server.Port);

if useTimer
    t = timer("ExecutionMode", "fixedSpacing", "Period", 0.05, ...
        "TimerFcn", @(~, ~) onTimer(server));
    start(t);
    tick = @() pause(0.05);       % MATLAB runs the timer callback while paused
else
    t = [];
    tick = @() onTimer(server);   % no timer: call the callback ourselves
end

% Three clients in this same session (any TCP client framing the same way works).
clients = cell(1, 3);
for i = 1:3
    clients{i} = libsock.TcpClient("127.0.0.1", server.Port, "Timeout", 5);
    configureFraming(clients{i}, "length", 4, "big-endian");
    writemsg(clients{i}, sprintf('hello from client %d', i));
end

% Wait (letting the callback run) until every echo is back, then read them.
for i = 1:3
    waitFor(@() clients{i}.NumBytesAvailable > 0, tick);
    reply = readmsg(clients{i}, "char");
    assert(strcmp(reply, sprintf('hello from client %d', i)), reply);
end

% A broadcast reaches every client once.
waitFor(@() numel(server.Clients) == 3, tick);
n = broadcast(server, "news for everyone");
fprintf('server_example: broadcast queued for %d clients\n', n);
for i = 1:3
    assert(strcmp(readmsg(clients{i}, "char"), 'news for everyone'));
end

st = stats(server);
fprintf('server_example: %d clients, %d messages in, %d out\n', st.Connections, ...
    st.MessagesIn, st.MessagesOut);

% Stop: clients first, then the server (graceful: queued messages are delivered), the timer,
% and the engine's threads (before unloading the library).
for i = 1:3
    close(clients{i});
end
waitFor(@() isempty(server.Clients), tick);
tick();  % the callback reports the departures
if ~isempty(t)
    stop(t);
    delete(t);
end
shutdown(server, 1);
delete(server);
delete(cfg);
libsock.shutdownEngine();
disp('server_example: ok');
end

function onTimer(server)
%ONTIMER  The timer callback: take what is waiting (never blocks) and echo every message.
events = poll(server, 500);
for k = 1:numel(events)
    ev = events(k);
    switch char(ev.Kind)
        case 'connected'
            fprintf('  client %d connected from %s\n', ev.Client, char(ev.Peer));
        case 'message'
            send(server, ev.Client, ev.Data);   % echo
        case 'disconnected'
            fprintf('  client %d left (%s)\n', ev.Client, char(ev.Reason));
    end
end
end

function waitFor(condition, tick)
%WAITFOR  Run TICK (pause, or the callback) until CONDITION() is true; error after 10 s.
t0 = tic;
while ~condition()
    if toc(t0) > 10
        error('server_example:timeout', 'gave up waiting');
    end
    tick();
end
end
