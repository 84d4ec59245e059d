function check(rc)
%CHECK  Throw libsock's error for a failed call (used by the libsock classes).
%   libsock.check(RC) returns when RC is LS_OK (0) and otherwise throws an MException whose
%   identifier is 'libsock:' followed by the error's name in camel case, and whose message is the
%   calling thread's last error message from ls_last_error_message: core's message, the same
%   text in every door, which names the operation and the address. For example:
%
%       libsock:timeout            LS_ERR_TIMEOUT
%       libsock:connectionRefused  LS_ERR_CONNECTION_REFUSED
%       libsock:closed             LS_ERR_CLOSED (the peer finished sending)
%       libsock:frameTooLarge      LS_ERR_FRAME_TOO_LARGE
%       libsock:badFrame           LS_ERR_BAD_FRAME (a malformed frame from the peer)
%       libsock:bufferTooSmall     LS_ERR_BUFFER_TOO_SMALL
%       libsock:badHandle          LS_ERR_BAD_HANDLE (use after close, an invented handle)
%       libsock:invalidArgument    LS_ERR_INVALID_ARGUMENT
%
%   Catch them by identifier:
%
%       try
%           data = read(t, 4, "uint8");
%       catch err
%           if err.identifier == "libsock:timeout", ... end
%       end
%
%   See also libsock.LS_ERR_TIMEOUT, MException.

if rc >= 0
    return
end
cap = 1024;
[mrc, msg, needed] = calllib('libsock', 'ls_last_error_message', blanks(cap), uint64(cap), uint64(0));
if mrc == libsock.LS_ERR_BUFFER_TOO_SMALL
    cap = double(needed);
    [mrc, msg] = calllib('libsock', 'ls_last_error_message', blanks(cap), uint64(cap), uint64(0));
end
if mrc ~= 0 || isempty(msg)
    msg = calllib('libsock', 'ls_strerror', int32(rc));
end
name = calllib('libsock', 'ls_error_name', int32(rc));
err = struct('identifier', libsock.Socket.errorIdentifier(name), 'message', msg);
if exist('OCTAVE_VERSION', 'builtin')
    error(err);  % Octave (used by libsock's own tests) has no MException
end
throwAsCaller(MException(err.identifier, '%s', err.message));
end
