function failed = libsock_xfer_selftest(proxyUrl, deniedPort)
%LIBSOCK_XFER_SELFTEST  File transfer (S22) and proxies (S24) through the MATLAB classes.
%   FAILED = libsock_xfer_selftest(PROXYURL, DENIEDPORT) prints one line per check and a final
%   "matlab-xfer-selftest: N passed, M failed" line, and returns M:
%     s22_transfer_broken_then_resumed  50 MB (LS_TEST_S22_MB overrides) sent step by step to
%                   a receiver in a second MATLAB/Octave process (libsock_transfer_peer: both
%                   ends of a transfer wait on each other, and MATLAB runs one thread); the
%                   connection is closed once half is sent; the receiver keeps the partial
%                   file, never under the final name; a second transfer with resume sends only
%                   the rest; the SHA-256 of both ends and of the file equals sha256sum's
%     file_transfer_surface  progress, info and the texts before a transfer; a missing file,
%                   an existing destination, a peer that does not speak the protocol, a
%                   failed transfer stepped again, cancel, use after close
%     s24_socks5_proxy  through PROXYURL (dante's danted, started by the test runner with a rule
%                   refusing 127.0.0.1:DENIEDPORT): 1 KiB echo to "localhost" (the proxy
%                   resolves it), the rule's refusal and a closed target, each
%                   'libsock:connectionRefused' naming the target, the proxy and its answer;
%                   an engine Client through the proxy; a bad proxy URL
%   CI runs it under Octave (python-tests/test_matlab_path.py starts danted and passes its URL).
%
%   See also libsock.FileTransfer, libsock_transfer_peer.

if nargin < 1
    proxyUrl = '';
end
if nargin < 2
    deniedPort = 0;
end
addpath(fullfile(fileparts(mfilename('fullpath')), '..'));
libsock.load();
tests = {@s22_transfer_broken_then_resumed, @file_transfer_surface, ...
    @(~) s24_socks5_proxy(proxyUrl, deniedPort)};
names = {'s22_transfer_broken_then_resumed', 'file_transfer_surface', 's24_socks5_proxy'};
failed = runSelftests('matlab-xfer-selftest', tests, names);
end

function s22_transfer_broken_then_resumed(~)
%S22_TRANSFER_BROKEN_THEN_RESUMED  See the file's help.
mb = str2double(getenv('LS_TEST_S22_MB'));
if isnan(mb) || mb <= 0
    mb = 50;
end
nbytes = mb * 1000000;
work = tempname();
mkdir(work);
mkdir(fullfile(work, 'out'));
cleanup = onCleanup(@() removeTree(work));
src = fullfile(work, 'big.bin');
writeRandomFile(src, nbytes);
ref = sha256sum(src);
final = fullfile(work, 'out', 'big.bin');
part = [final '.libsock-part'];
pid = startPeer(work);
killer = onCleanup(@() stopPeer(pid));
portLines = waitForFile(fullfile(work, 'port.txt'), 120);
port = str2double(portLines{1});

% The first transfer, broken once half is sent.
t = libsock.TcpClient('127.0.0.1', port, 'Timeout', 30);
tx = libsock.FileTransfer.sender(src);
[done, total, state] = progress(tx);
assert(done == 0 && total == nbytes && strcmp(state, 'starting'), 'before: %d %d %s', done, total, state);
showedFinal = false;
while true
    state = step(tx, t);
    assert(strcmp(state, 'transferring'), 'state %s', state);
    showedFinal = showedFinal || exist(final, 'file') ~= 0;
    [done, total] = progress(tx);
    if done >= nbytes / 2
        break
    end
end
assert(done < nbytes && total == nbytes, 'done %d of %d', done, total);
close(t);  % the break
r1 = waitForFile(fullfile(work, 'result1.txt'), 60);
assert(strcmp(r1{1}, 'libsock:closed'), 'the receiver ended with %s: %s', r1{1}, r1{2});
assert(~isempty(strfind(r1{2}, 'libsock-part')), 'the message does not name the partial file: %s', r1{2});
assert(exist(final, 'file') == 0, 'a partial file under the final name');
d = dir(part);
assert(numel(d) == 1, 'no %s', part);
kept = d.bytes;
assert(kept > 0 && kept < nbytes && str2double(r1{3}) == kept && str2double(r1{4}) == nbytes ...
    && strcmp(r1{5}, 'failed'), 'kept %d, receiver: %s %s %s', kept, r1{3}, r1{4}, r1{5});
delete(tx);

% Resumed over a new connection: only the rest is sent.
t = libsock.TcpClient('127.0.0.1', port, 'Timeout', 30);
tx = libsock.FileTransfer.sender(src);
state = '';
while ~strcmp(state, 'done')
    state = step(tx, t);
    if strcmp(state, 'transferring')
        showedFinal = showedFinal || exist(final, 'file') ~= 0;
    end
end
r2 = waitForFile(fullfile(work, 'result2.txt'), 60);
assert(strcmp(r2{1}, 'ok'), 'the resumed receive failed: %s: %s', r2{1}, r2{2});
assert(~showedFinal, 'the final name appeared before the transfer was verified');
i = info(tx);
assert(i.Size == nbytes && i.Version == 2 && i.Offered == kept && i.ResumedAt == kept, ...
    'sender info: nbytes %d version %d offered %d resumed %d (kept %d)', i.Size, i.Version, ...
    i.Offered, i.ResumedAt, kept);
assert(strcmp(tx.Sha256, ref) && strcmp(i.Sha256, ref), 'sender SHA-256 %s, sha256sum %s', tx.Sha256, ref);
assert(strcmp(r2{6}, ref) && str2double(r2{7}) == kept, 'receiver SHA-256 %s, resumed at %s', r2{6}, r2{7});
assert(strcmp(sha256sum(final), ref), 'the received file differs');
assert(exist(part, 'file') == 0, 'the partial file is left');
[done, total, state] = progress(tx);
assert(done == nbytes && total == nbytes && strcmp(state, 'done'));
assert(strcmp(step(tx, t), 'done'));  % a step after the end does nothing
close(tx);
close(tx);  % twice is harmless
expectError('libsock:badHandle', @() progress(tx));
delete(t);
clear killer cleanup
end

function file_transfer_surface(~)
%FILE_TRANSFER_SURFACE  See the file's help.
work = tempname();
mkdir(work);
cleanup = onCleanup(@() removeTree(work));
src = fullfile(work, 'small.bin');
fid = fopen(src, 'w');
fwrite(fid, uint8(1:100), 'uint8');
fclose(fid);
tx = libsock.FileTransfer.sender(src, 'Name', 'announced.bin');
assert(strcmp(tx.Name, 'announced.bin'), 'name %s', tx.Name);
assert(~isempty(strfind(tx.Path, 'small.bin')), 'path %s', tx.Path);
assert(strcmp(tx.State, 'starting') && isempty(tx.Sha256));
i = info(tx);
assert(i.Size == 100 && i.Version == 2 && i.Offered == 0 && i.ResumedAt == 0, 'version %d', i.Version);
delete(tx);
tx = libsock.FileTransfer.sender(src, 'Resume', false);  % protocol version 1, for old receivers
i = info(tx);
assert(i.Version == 1);
delete(tx);
rx = libsock.FileTransfer.receiver(fullfile(work, 'in0'));
i = info(rx);
assert(i.Version == 0 && i.Size == 0 && isempty(i.Name) && isempty(i.Path));
[done, total, state] = progress(rx);
assert(done == 0 && total == 0 && strcmp(state, 'starting'));
delete(rx);
try
    libsock.FileTransfer.sender(fullfile(work, 'missing.bin'));
    error('selftest:noError', 'a missing file made a sender');
catch err
    assert(strcmp(err.identifier, 'libsock:io') && ~isempty(strfind(err.message, 'missing.bin')), ...
        '%s: %s', err.identifier, err.message);
end
expectError('libsock:io', @() libsock.FileTransfer.receiver(src));  % exists, no Overwrite
rx = libsock.FileTransfer.receiver(src, 'Overwrite', true);
delete(rx);
% A peer that does not speak the protocol.
[l, c, s] = pair();
rx = libsock.FileTransfer.receiver(fullfile(work, 'in'));
write(s, uint8(['GET / HTTP/1.1' 13 10 13 10 zeros(1, 64)]));
c.Timeout = 5;
expectError('libsock:badFrame', @() run(rx, c));
assert(strcmp(rx.State, 'failed'));
expectError('libsock:invalidArgument', @() step(rx, c));  % names the first failure
delete(rx);
% Cancel: the next step is interrupted.
rx = libsock.FileTransfer.receiver(fullfile(work, 'in2'));
cancel(rx);
expectError('libsock:interrupted', @() step(rx, c));
expectError('libsock:invalidArgument', @() step(rx, 42));
delete(rx);
close(c); close(s); close(l);
clear cleanup
end

function s24_socks5_proxy(proxyUrl, deniedPort)
%S24_SOCKS5_PROXY  See the file's help.
assert(~isempty(proxyUrl), 'no proxy given (python-tests/test_matlab_path.py starts danted)');
proxyUrl = char(proxyUrl);
hostPort = regexprep(proxyUrl, '^[a-z0-9]+://', '');
% Echo 1 KiB through the proxy to a name it resolves.
l = libsock.Listener('127.0.0.1', 0, 'Timeout', 10);
t = libsock.TcpClient('localhost', l.Port, 'Timeout', 10, 'Proxy', proxyUrl);
s = accept(l);
assert(strcmp(t.Address, 'localhost'));
payload = uint8(mod(0:1023, 251));
write(t, payload);
got = read(s, 1024);
assert(isequal(got, payload));
write(s, got);
assert(isequal(read(t, 1024), payload));
delete(t); delete(s);
% The proxy's rule refuses a target.
try
    libsock.TcpClient('127.0.0.1', deniedPort, 'Timeout', 10, 'Proxy', proxyUrl);
    error('selftest:noError', 'the denied target was reached');
catch err
    assert(strcmp(err.identifier, 'libsock:connectionRefused'), '%s: %s', err.identifier, err.message);
    assert(~isempty(strfind(err.message, sprintf('127.0.0.1:%d', deniedPort))) ...
        && ~isempty(strfind(err.message, hostPort)) ...
        && ~isempty(strfind(err.message, 'not allowed by ruleset')), err.message);
end
% Nobody listens at the target.
closed = libsock.Listener('127.0.0.1', 0);
closedPort = closed.Port;
delete(closed);
try
    libsock.TcpClient('127.0.0.1', closedPort, 'Timeout', 10, 'Proxy', proxyUrl);
    error('selftest:noError', 'a closed target was reached');
catch err
    assert(strcmp(err.identifier, 'libsock:connectionRefused'), '%s: %s', err.identifier, err.message);
    assert(~isempty(strfind(err.message, sprintf('127.0.0.1:%d', closedPort))) ...
        && ~isempty(strfind(err.message, 'connection refused')), err.message);
end
% A URL core refuses, never echoing the password.
try
    libsock.TcpClient('127.0.0.1', l.Port, 'Proxy', 'socks5://alice:s3cret@127.0.0.1:0');
    error('selftest:noError', 'a bad proxy URL was taken');
catch err
    assert(strcmp(err.identifier, 'libsock:invalidArgument') && isempty(strfind(err.message, 's3cret')), ...
        '%s: %s', err.identifier, err.message);
end
delete(l);
% The engine client through the proxy, to an engine server.
srv = libsock.Server('127.0.0.1', 0);
cli = libsock.Client('localhost', srv.Port, 'Proxy', proxyUrl, 'BackoffMin', 0.05);
pumpUntil(cli, @(e) countKind(e, 'connected') == 1, 20);
send(cli, 'through the proxy');
ev = firstKind(pumpUntil(srv, @(e) countKind(e, 'message') == 1, 20), 'message');
assert(strcmp(char(ev.Data), 'through the proxy'));
send(srv, ev.Client, 'back');
ev = firstKind(pumpUntil(cli, @(e) countKind(e, 'message') == 1, 20), 'message');
assert(strcmp(char(ev.Data), 'back'));
cfg = libsock.EngineConfig();
expectError('libsock:invalidArgument', @() configureProxy(cfg, 'gopher://127.0.0.1:70'));
configureProxy(cfg, '');  % removes it
close(cfg);
delete(cli);
delete(srv);
end

% ------------------------------------------------------------------------------------------

function writeRandomFile(path, nbytes)
%WRITERANDOMFILE  NBYTES pseudo-random bytes at PATH, written 1 MB at a time.
fid = fopen(path, 'w');
chunk = 1000000;
left = nbytes;
while left > 0
    n = min(chunk, left);
    fwrite(fid, uint8(floor(rand(1, n) * 256)), 'uint8');
    left = left - n;
end
fclose(fid);
end

function h = sha256sum(path)
%SHA256SUM  The SHA-256 of the file at PATH, from the sha256sum tool (independent of libsock).
[rc, out] = system(sprintf('sha256sum "%s"', path));
assert(rc == 0, 'sha256sum failed: %s', out);
h = regexp(out, '^[0-9a-f]{64}', 'match', 'once');
end

function pid = startPeer(work)
%STARTPEER  Start libsock_transfer_peer(WORK) in a second MATLAB or Octave process (in the
%   background, bounded by `timeout` where the system has it); its process id.
tests = fileparts(mfilename('fullpath'));
code = sprintf('addpath(''%s''); libsock_transfer_peer(''%s''); exit(0);', tests, work);
if exist('OCTAVE_VERSION', 'builtin')
    exe = fullfile(OCTAVE_HOME(), 'bin', 'octave-cli');
    if ~exist(exe, 'file')
        exe = 'octave-cli';
    end
    cmd = sprintf('"%s" --no-gui --norc --quiet --no-window-system --eval "%s"', exe, code);
else
    cmd = sprintf('"%s" -batch "%s"', fullfile(matlabroot, 'bin', 'matlab'), code);
end
[rc, ~] = system('command -v timeout');
if rc == 0
    cmd = ['timeout 300 ' cmd];
end
log = fullfile(work, 'peer.log');
[rc, out] = system(sprintf('%s >"%s" 2>&1 & echo $!', cmd, log));
assert(rc == 0, 'could not start the peer: %s', out);
pid = str2double(strtrim(out));
end

function stopPeer(pid)
%STOPPEER  End the peer process if it is still running.
if ~isnan(pid)
    system(sprintf('kill %d 2>/dev/null', pid));
end
end

function lines = waitForFile(path, timeout)
%WAITFORFILE  Wait up to TIMEOUT s for PATH to appear; its lines as a cell array.
t0 = tic;
while ~exist(path, 'file')
    if toc(t0) > timeout
        logText = '';
        logFile = fullfile(fileparts(path), 'peer.log');
        if exist(logFile, 'file')
            logText = fileread(logFile);
        end
        error('selftest:timeout', 'no %s after %d s; peer log: %s', path, timeout, logText);
    end
    pause(0.05);
end
lines = strsplit(fileread(path), char(10));
end

function removeTree(path)
%REMOVETREE  Remove a temporary folder and everything in it.
if exist(path, 'dir')
    if exist('OCTAVE_VERSION', 'builtin')
        confirm_recursive_rmdir(false);
    end
    rmdir(path, 's');
end
end
