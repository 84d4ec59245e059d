function failed = libsock_kcp_selftest(python, peer, loss)
%LIBSOCK_KCP_SELFTEST  KCP through the MATLAB classes: scenario S23 against the reference KCP
%   implementation, and the KCP classes' surface.
%   FAILED = libsock_kcp_selftest(PYTHON, PEER, LOSS) prints one line per check and a final
%   "matlab-kcp-selftest: N passed, M failed" line, and returns M. PYTHON is a Python with the
%   PyPI package kcp (ikcp.c, the reference implementation), PEER the path of
%   python-tests/peers/kcp_ref.py, LOSS the packet loss in % the run is under (0; 10 or 30
%   when python-tests/test_matlab_path.py runs this inside a network namespace whose loopback
%   drops that share of the UDP packets, as test_kcp.py does for Python):
%     s23_session_against_reference_server  libsock.KcpSession sends 1,000 messages (1 to
%                 3,000 bytes) to the reference echo server (kcp_ref.py serve) and receives
%                 each back, intact, once, in order; the server got them all, in order; under
%                 loss the retransmits are counted
%     s23_reference_client_against_server   the reference client (kcp_ref.py client) sends
%                 1,000 messages to a libsock.KcpServer that MATLAB polls and echoes; both ends
%                 check every message
%     kcp_surface  libsock on both ends: Conv, PeerAddress, Timeout, poll, flush, stats,
%                 clientAddress, disconnect and its event, the tuning's and a send's refusals,
%                 shutdown
%   MATLAB runs one thread, so a session runs only inside its own calls (recv, send, flush,
%   poll) and the echo server is polled in a loop: the peers are separate processes.
%
%   See also libsock.KcpServer, libsock.KcpSession, libsock.kcpConnect.

if nargin < 3
    loss = 0;
end
addpath(fullfile(fileparts(mfilename('fullpath')), '..'));
libsock.load();
tests = {@(~) s23_session_against_reference_server(python, peer, loss), ...
    @(~) s23_reference_client_against_server(python, peer, loss), @kcp_surface};
names = {'s23_session_against_reference_server', 's23_reference_client_against_server', ...
    'kcp_surface'};
if loss > 0
    tests = tests(1:2);  % the surface needs no loss
    names = names(1:2);
end
failed = runSelftests('matlab-kcp-selftest', tests, names);
end

function m = msg(i)
%MSG  Message I of an S23 run, as msg(i) of kcp_ref.py: 1 to 3,000 bytes.
n = mod(i * 37, 3000) + 1;
base = mod(i * 7, 256);
m = uint8(mod(base + (0:n - 1), 256));
end

function s23_session_against_reference_server(python, peer, loss)
%S23_SESSION_AGAINST_REFERENCE_SERVER  See the file's help.
N = 1000;
work = tempname();
mkdir(work);
out = fullfile(work, 'peer.out');
pid = startProcess(sprintf('"%s" "%s" serve --n %d --timeout 300', python, peer, N), out);
stopper = onCleanup(@() stopProcess(pid, work));
lines = waitForLines(out, 1, 60, @() pause(0.02), pid);
address = strtrim(lines{1});
assert(~isempty(strfind(address, ':')), 'the reference server did not start: %s', address);
k = libsock.kcpConnect(address, [], 'Conv', hex2dec('11223344'), 'Timeout', 120);
assert(k.Conv == hex2dec('11223344'));
for i = 0:N - 1
    send(k, msg(i));
end
for i = 0:N - 1
    got = recv(k);
    assert(isequal(got, msg(i)), 'echo %d differs (%d bytes, %d expected)', i, numel(got), numel(msg(i)));
end
k.Timeout = 0.2;
expectError('libsock:timeout', @() recv(k));  % nothing extra
flush(k, 120);
st = stats(k);
assert(st.MessagesOut == N && st.MessagesIn == N, 'out %d in %d', st.MessagesOut, st.MessagesIn);
if loss > 0
    assert(st.Retransmits > 0, 'no retransmits under %d %% loss', loss);
end
fprintf('  S23 session -> reference server, %d %% loss: %d messages, %d retransmits\n', loss, N, st.Retransmits);
% Keep the session running while the server finishes: under loss it may resend an echo whose
% acknowledgement was lost, and only a running session acknowledges it again.
lines = waitForLines(out, 2, 120, @() poll(k, 0.05), pid);
assert(~isempty(strfind(lines{2}, sprintf('"server_got": %d', N))) ...
    && ~isempty(strfind(lines{2}, '"server_in_order": true')), 'reference server: %s', lines{2});
delete(k);
clear stopper
end

function s23_reference_client_against_server(python, peer, loss)
%S23_REFERENCE_CLIENT_AGAINST_SERVER  See the file's help.
N = 1000;
srv = libsock.KcpServer('127.0.0.1', 0, 'IdleTimeout', 60);
work = tempname();
mkdir(work);
out = fullfile(work, 'peer.out');
pid = startProcess(sprintf('"%s" "%s" client --address 127.0.0.1:%d --n %d --timeout 300', ...
    python, peer, srv.Port, N), out);
stopper = onCleanup(@() stopProcess(pid, work));
got = 0;
bad = -1;
t0 = tic;
checked = 0;
while true
    for ev = waitEvents(srv, 0.1)
        if ~strcmp(ev.Kind, 'message')
            continue
        end
        if bad < 0 && ~isequal(reshape(ev.Data, 1, []), msg(got))
            bad = got;
        end
        got = got + 1;
        send(srv, ev.Client, ev.Data);
    end
    if exist(out, 'file') && numel(readLines(out)) >= 1
        break  % the client finished (it waits for every echo)
    end
    assert(toc(t0) < 360, 'the reference client did not finish (%d messages)', got);
    if toc(t0) > checked + 1
        checked = toc(t0);
        assertRunning(pid, out, 1);  % a client that died (say, without its kcp package) fails now
    end
end
lines = readLines(out);
assert(~isempty(strfind(lines{1}, sprintf('"received": %d', N))) && ...
    ~isempty(strfind(lines{1}, '"first_bad": null')) && ~isempty(strfind(lines{1}, '"extra": false')), ...
    'reference client: %s', lines{1});
assert(got == N && bad < 0, 'the server got %d messages, first bad %d', got, bad);
st = stats(srv);
if loss > 0
    assert(st.Retransmits > 0, 'no retransmits under %d %% loss', loss);
end
fprintf('  S23 reference client -> server, %d %% loss: %d messages, %d retransmits\n', loss, got, st.Retransmits);
delete(srv);
clear stopper
end

function kcp_surface(~)
%KCP_SURFACE  See the file's help.
srv = libsock.KcpServer('127.0.0.1', 0, 'Interval', 0.01, 'Linger', 1);
assert(srv.Port > 0);
k = libsock.kcpConnect('127.0.0.1', srv.Port, 'Timeout', 10, 'Nodelay', 2);
k2 = libsock.KcpSession(sprintf('127.0.0.1:%d', srv.Port), 'Conv', 7, 'Timeout', 10);
assert(k2.Conv == 7 && k.Conv ~= 7);
assert(strcmp(k.PeerAddress, sprintf('127.0.0.1:%d', srv.Port)), k.PeerAddress);
assert(k.Timeout == 10 && k.LocalPort > 0);
send(k, 'hello');
send(k2, uint16([1 2 3]), 'uint16');
events = libsock.EngineObject.noEvents();
t0 = tic;
while countKind(events, 'message') < 2
    assert(toc(t0) < 10, 'the server got %d messages', countKind(events, 'message'));
    events = [events, waitEvents(srv, 0.05)]; %#ok<AGROW>
    poll(k);
    poll(k2);
end
assert(countKind(events, 'connected') == 2);
msgs = events(strcmp({events.Kind}, 'message'));
ids = [msgs.Client];
first = msgs(cellfun(@(d) isequal(reshape(d, 1, []), uint8('hello')), {msgs.Data}));
assert(numel(first) == 1);
assert(isequal(sort(srv.Clients), sort(ids)));
assert(strcmp(clientAddress(srv, first.Client), k.LocalAddress));
send(srv, first.Client, 'world');
assert(strcmp(recv(k, 'char'), 'world'));
for id = ids
    send(srv, id, 'both');
end
assert(strcmp(recv(k, 'char'), 'both'));
assert(isequal(recv(k2), uint8('both')));
flush(k, 10);
assert(~poll(k, 0.02));  % nothing waiting
st = stats(k);
assert(st.MessagesOut == 1 && st.MessagesIn == 2 && st.DatagramsIn > 0 && isfield(st, 'Srtt'));
st = stats(srv);
assert(st.Connections == 2 && st.MessagesIn == 2 && st.DatagramsIn > 0 && isfield(st, 'Retransmits'));
expectError('libsock:invalidArgument', @() send(k, ''));  % an empty message
expectError('libsock:invalidArgument', @() poll(k, Inf));
k.Timeout = 0.1;
expectError('libsock:timeout', @() recv(k));
disconnect(srv, first.Client);
ev = firstKind(pumpUntil(srv, @(e) countKind(e, 'disconnected') == 1, 10), 'disconnected');
assert(ev.Client == first.Client && strcmp(ev.Reason, 'kicked'), ev.Reason);
expectError('libsock:invalidArgument', @() libsock.KcpServer('127.0.0.1', 0, 'Mtu', 10));
expectError('libsock:invalidArgument', @() libsock.kcpConnect('127.0.0.1', srv.Port, 'Interval', 100));
expectError('libsock:unsupported', @() libsock.KcpServer('unix:/tmp/libsock-kcp-none.sock'));
shutdown(srv, 1);
ev = firstKind(pumpUntil(srv, @(e) countKind(e, 'closed') == 1, 10), 'closed');
assert(strcmp(ev.Kind, 'closed'));
close(k);
close(k);  % twice is harmless
delete(k2);
delete(srv);
end

% ------------------------------------------------------------------------------------------

function pid = startProcess(cmd, out)
%STARTPROCESS  Run CMD in the background (bounded by `timeout` where the system has it), its
%   standard output into OUT, its standard error beside it; its process id.
[rc, ~] = system('command -v timeout');
if rc == 0
    cmd = ['timeout 400 ' cmd];
end
[rc, text] = system(sprintf('%s >"%s" 2>"%s.err" & echo $!', cmd, out, out));
assert(rc == 0, 'could not start %s: %s', cmd, text);
pid = str2double(strtrim(text));
end

function stopProcess(pid, work)
%STOPPROCESS  End the process if it still runs; remove its folder.
if ~isnan(pid)
    system(sprintf('kill %d 2>/dev/null', pid));
end
if exist(work, 'dir')
    if exist('OCTAVE_VERSION', 'builtin')
        confirm_recursive_rmdir(false);
    end
    rmdir(work, 's');
end
end

function lines = readLines(path)
%READLINES  The complete lines of a file (those ended by a newline).
text = fileread(path);
lines = {};
ends = find(text == char(10));
from = 1;
for e = ends
    lines{end + 1} = text(from:e - 1); %#ok<AGROW>
    from = e + 1;
end
end

function assertRunning(pid, out, n)
%ASSERTRUNNING  Fail at once, with its standard error, when the peer process PID (writing OUT)
%   has exited before writing N complete lines: waiting out the bound would only hide why.
[rc, state] = system(sprintf('ps -o stat= -p %d 2>/dev/null', pid));
state = strtrim(state);
if rc == 0 && ~isempty(state) && state(1) ~= 'Z'
    return  % running (a zombie, left unreaped where PID 1 does not reap, has exited)
end
if exist(out, 'file') && numel(readLines(out)) >= n
    return  % it finished: its output is there
end
err = '';
if exist([out '.err'], 'file')
    err = fileread([out '.err']);
end
error('selftest:peerExited', 'the peer process %d exited after fewer than %d lines; stderr: %s', ...
    pid, n, err);
end

function lines = waitForLines(path, n, timeout, tick, pid)
%WAITFORLINES  Wait up to TIMEOUT s until PATH holds N complete lines; its lines. TICK (a
%   function, optional) is called between looks instead of a pause. PID (optional): the process
%   writing PATH, checked once a second: one that exits first fails the wait at once.
if nargin < 4
    tick = @() pause(0.02);
end
if nargin < 5
    pid = NaN;
end
t0 = tic;
checked = 0;
while true
    if exist(path, 'file')
        lines = readLines(path);
        if numel(lines) >= n
            return
        end
    end
    if ~isnan(pid) && toc(t0) > checked + 1
        checked = toc(t0);
        assertRunning(pid, path, n);
    end
    if toc(t0) > timeout
        err = '';
        if exist([path '.err'], 'file')
            err = fileread([path '.err']);
        end
        error('selftest:timeout', 'no %d lines in %s after %d s; stderr: %s', n, path, timeout, err);
    end
    tick();
end
end
