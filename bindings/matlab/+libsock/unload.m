function unload()
%UNLOAD  Unload libsock's shared library from MATLAB.
%   libsock.unload() stops libsock's engine threads (libsock.shutdownEngine: a libsock.Server or
%   libsock.Client runs on them) and then calls unloadlibrary('libsock') when the library is
%   loaded. Delete (or clear) every libsock object first: their handles live inside the
%   library, and a handle used after unloading fails with an error rather than crashing. The
%   blocking calls start no thread, and once the engine is shut down none is left, so
%   unloading is clean.
%
%   See also libsock.load, libsock.shutdownEngine.

if libisloaded('libsock')
    libsock.shutdownEngine();
    unloadlibrary('libsock');
end
end
