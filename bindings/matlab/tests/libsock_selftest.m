function failed = libsock_selftest(megabytes)
%LIBSOCK_SELFTEST  Scenarios S01-S12 (docs/SCENARIOS.md) for the MATLAB classes, in one session.
%   FAILED = libsock_selftest() runs each scenario with libsock on both ends (a Listener and the
%   TcpClient it accepts; two Udp sockets), prints one line per scenario and a final
%   "matlab-selftest: N passed, M failed" line, and returns M.
%   libsock_selftest(MEGABYTES) sets the size of S04's transfer each way (default 64).
%
%   MATLAB is single-threaded here, so every exchange is arranged to fit the sockets' buffers or
%   to alternate between the two ends. In MATLAB run it after libsock.load (or with the library
%   where libsock.load finds it). CI runs this very file under Octave, whose loadlibrary/calllib
%   stand-ins live in python-tests/matlab/octave (python-tests/test_matlab_path.py).
%
%   See also libsock.TcpClient, libsock.Listener, libsock.Udp.

if nargin < 1
    megabytes = 64;
end
addpath(fullfile(fileparts(mfilename('fullpath')), '..'));
libsock.load();
tests = {@s01_echo, @s02_refused, @s03_timeout, @(~) s04_large(megabytes), @s05_framed, ...
    @s06_lines, @s07_half_close, @s08_misuse, @s09_buffer_too_small, @s10_udp, ...
    @s11_listener, @s12_options};
names = {'s01_echo', 's02_refused', 's03_timeout', 's04_large', 's05_framed', 's06_lines', ...
    's07_half_close', 's08_misuse', 's09_buffer_too_small', 's10_udp', 's11_listener', ...
    's12_options'};
failed = runSelftests('matlab-selftest', tests, names);
end

function s01_echo(~)
[l, c, s] = pair();
out = uint8(randi([0 255], 1, 1024));
write(c, out);
write(s, read(s, 1024));
assert(isequal(read(c, 1024), out));
c.ByteOrder = 'big-endian';
s.ByteOrder = 'big-endian';
write(c, [1 -2 300], 'int16');
assert(isequal(read(s, 3, 'int16'), int16([1 -2 300])));
close(c);
close(c);  % twice: harmless
expectError('libsock:badHandle', @() write(c, uint8(1)));
close(s);
close(l);
end

function s02_refused(~)
l = libsock.Listener('127.0.0.1', 0);
port = l.Port;
close(l);  % nobody listens there now
try
    libsock.TcpClient('127.0.0.1', port, 'ConnectTimeout', 5);
    error('selftest:noError', 'connect did not fail');
catch err
    assert(strcmp(err.identifier, 'libsock:connectionRefused'), err.identifier);
    assert(~isempty(strfind(err.message, sprintf('127.0.0.1:%d', port))), err.message);
end
end

function s03_timeout(~)
[l, c, s] = pair();
c.Timeout = 0.2;
t0 = tic;
expectError('libsock:timeout', @() read(c, 4));
dt = toc(t0);
assert(dt >= 0.19 && dt <= 2, 'waited %g s', dt);
write(s, 'pong');
assert(strcmp(read(c, 4, 'char'), 'pong'));  % still works
close(c); close(s); close(l);
end

function s04_large(megabytes)
[l, c, s] = pair();
chunk = 1048576;
for k = 1:megabytes
    block = uint8(mod((1:chunk) * 7 + k, 256));
    write(c, block);
    got = read(s, chunk);
    assert(isequal(got, block), 'block %d client->server', k);
    write(s, got);
    assert(isequal(read(c, chunk), block), 'block %d server->client', k);
end
close(c); close(s); close(l);
end

function s05_framed(~)
[l, c, s] = pair();
configureFraming(c, 'length', 4, 'big-endian', 65536);
configureFraming(s, 'length', 4, 'big-endian', 65536);
c.MessageBufferSize = 1024;
s.MessageBufferSize = 1024;
for k = 1:1000
    n = randi([0 65536]);
    msg = uint8(randi([0 255], 1, n));
    writemsg(c, msg);
    got = readmsg(s);
    assert(numel(got) == n && isequal(double(got), double(msg)), 'message %d', k);
    writemsg(s, got);
    back = readmsg(c);
    assert(numel(back) == n && isequal(double(back), double(msg)), 'echo %d', k);
end
close(c); close(s); close(l);
end

function s06_lines(~)
[l, c, s] = pair();
write(s, ['alpha' char([13 10]) 'beta' char([13 10]) repmat('x', 1, 5000) char([13 10]) 'gamma' char([13 10])]);
close(s);
configureFraming(c, 'delimited', [13 10], 100);
assert(strcmp(readmsg(c, 'char'), 'alpha'));
assert(strcmp(readmsg(c, 'char'), 'beta'));
expectError('libsock:frameTooLarge', @() readmsg(c));
assert(strcmp(readmsg(c, 'char'), 'gamma'));
expectError('libsock:closed', @() readmsg(c));
close(c);
% readline / writeline
s = [];
c = libsock.TcpClient('127.0.0.1', l.Port, 'Timeout', 10, 'Terminator', 'CR/LF');
s = accept(l);
configureTerminator(s, 'CR/LF');
writeline(c, 'hello');
writeline(c, 'world');
assert(strcmp(readline(s), 'hello'));
assert(strcmp(readline(s), 'world'));
close(c); close(s); close(l);
end

function s07_half_close(~)
[l, c, s] = pair();
write(c, zeros(1, 100000, 'uint8'));
shutdown(c, 'write');
n = 0;
try
    while true
        n = n + numel(read(s, 1));
    end
catch err
    assert(strcmp(err.identifier, 'libsock:closed'), err.identifier);
end
assert(n == 100000, 'server read %d bytes', n);
reply = sprintf('got %d bytes', n);
write(s, reply);
close(s);
assert(strcmp(read(c, numel(reply), 'char'), reply));
expectError('libsock:closed', @() read(c, 1));
close(c); close(l);
end

function s08_misuse(~)
[l, c, s] = pair();
close(c);
expectError('libsock:badHandle', @() write(c, uint8(1)));
expectError('libsock:badHandle', @() read(c, 1));
expectError('libsock:badHandle', @() libsock.TcpClient(int64(987654321)));
expectError('libsock:invalidArgument', @() read(s, -1));
expectError('libsock:invalidArgument', @() read(s, 1, 'float128'));
rc = calllib('libsock', 'ls_send_all', s.Handle, zeros(1, 0, 'uint8'), uint64(5));
assert(rc == libsock.LS_ERR_INVALID_ARGUMENT);
write(s, 'still alive');
close(s); close(l);
end

function s09_buffer_too_small(~)
[l, c, s] = pair();
configureFraming(c, 'length', 4, 'big-endian');
configureFraming(s, 'length', 4, 'big-endian');
body = uint8(mod((0:999) * 7, 256));
writemsg(s, body);
buf = libpointer('uint8Ptr', zeros(1, 10, 'uint8'));
out = libpointer(libsock.ptrtype('size'), 0);
rc = calllib('libsock', 'ls_recv_msg', c.Handle, int32(5000), buf, uint64(10), out);
assert(rc == libsock.LS_ERR_BUFFER_TOO_SMALL && out.Value == 1000);
c.MessageBufferSize = 10;
assert(isequal(readmsg(c), body));  % still there
close(c); close(s); close(l);
end

function s10_udp(~)
a = libsock.Udp('LocalHost', '127.0.0.1');
b = libsock.Udp('LocalHost', '127.0.0.1', 'Timeout', 5);
write(a, 'hello', 'char', '127.0.0.1', b.LocalPort);
[data, sender, truncated] = read(b, 100, 'char');
assert(strcmp(data, 'hello') && strcmp(sender, a.LocalAddress) && ~truncated);
write(a, repmat(uint8(76), 1, 2000), 'uint8', b.LocalAddress);
[data, ~, truncated] = read(b, 100);
assert(numel(data) == 100 && truncated);
b.Timeout = 0.1;
expectError('libsock:timeout', @() read(b, 10));
close(a); close(b);
end

function s11_listener(~)
l = libsock.Listener('127.0.0.1', 0);
assert(l.Port > 0 && l.Port < 65536);
assert(strcmp(l.LocalAddress, sprintf('127.0.0.1:%d', l.Port)));
t0 = tic;
expectError('libsock:timeout', @() accept(l, 0.2));
dt = toc(t0);
assert(dt >= 0.19 && dt <= 2, 'waited %g s', dt);
close(l);
end

function s12_options(~)
[l, c, s] = pair();
setOption(c, 'NoDelay', true);
assert(getOption(c, 'NoDelay') == 1);
setOption(c, 'KeepAlive', 1);
assert(getOption(c, 'KeepAlive') == 1);
setOption(c, 'KeepAliveIdle', 30);
assert(getOption(c, 'KeepAliveIdle') == 30);
setOption(c, 'RecvBufferSize', 65536);
assert(getOption(c, 'RecvBufferSize') >= 65536);
assert(getOption(c, 'recv_buffer_size') >= 65536);   % core's spelling (docs/NAMES.md)
assert(getOption(c, 'ReceiveBufferSize') >= 65536);  % the former name
setOption(c, 'SendBufferSize', 65536);
assert(getOption(c, 'SendBufferSize') >= 65536);
setOption(c, libsock.LS_OPT_TTL, 33);
assert(getOption(c, 'TTL') == 33);
close(c); close(s); close(l);
end
