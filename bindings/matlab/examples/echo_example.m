%ECHO_EXAMPLE  libsock from MATLAB: a listener, a client, typed values, lines, framed messages.
%   Run it from any folder after building the library (cargo build -p libsock-c --release):
%
%       run('bindings/matlab/examples/echo_example.m')
%
%   Both ends live in this one MATLAB session: a connect completes in the listener's backlog
%   before accept is called, so no second process is needed. python-tests/test_matlab_path.py
%   runs this file under Octave on every CI run.

addpath(fullfile(fileparts(mfilename('fullpath')), '..'));  % the folder that holds +libsock
libsock.load();
fprintf('libsock %s\n', libsock.version());

server = libsock.Listener("127.0.0.1", 0, "Timeout", 5);
client = libsock.TcpClient("127.0.0.1", server.Port, "Timeout", 5);
peer = accept(server);

% Typed values; ByteOrder applies to every multi-byte datatype.
client.ByteOrder = "big-endian";
peer.ByteOrder = "big-endian";
write(client, [1.5 2.5 3.5], "double");
x = read(peer, 3, "double");
assert(isequal(x, [1.5 2.5 3.5]));

% Lines.
configureTerminator(client, "CR/LF");
configureTerminator(peer, "CR/LF");
writeline(client, "hello");
assert(readline(peer) == "hello");

% Framed messages: a 4-byte big-endian length before each one.
configureFraming(client, "length", 4, "big-endian");
configureFraming(peer, "length", 4, "big-endian");
writemsg(client, uint8(1:100));
assert(isequal(readmsg(peer), uint8(1:100)));

% Errors are MExceptions with libsock identifiers.
peer.Timeout = 0.2;
try
    read(peer, 1);
    error('echo_example:noTimeout', 'read should have timed out');
catch err
    assert(strcmp(err.identifier, 'libsock:timeout'), err.message);
end

clear client peer server  % delete closes every handle
disp('echo_example: ok');
