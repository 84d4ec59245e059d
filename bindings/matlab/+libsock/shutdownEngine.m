function shutdownEngine()
%SHUTDOWNENGINE  Stop libsock's engine threads (ls_shutdown_engine), e.g. before libsock.unload.
%   libsock.shutdownEngine() stops every libsock.Server and libsock.Client at once (their
%   waitEvents return, their last events are queued, later sends throw 'libsock:closed'; the
%   objects stay valid until deleted) and joins the engine's threads (up to 5 s), so that
%   unloadlibrary finds no thread running inside the library. The blocking classes
%   (TcpClient, Listener, Udp) are not affected. A Server or Client made afterwards starts the
%   engine again. Calling it twice, or without an engine, is harmless; libsock.unload calls it.
%
%   Example:
%       clear s c                 % delete the engine objects
%       libsock.shutdownEngine();
%       libsock.unload();
%
%   See also libsock.unload, libsock.Server, libsock.Client.

if ~libisloaded('libsock')
    return
end
rc = calllib('libsock', 'ls_shutdown_engine');
libsock.check(rc);
end
