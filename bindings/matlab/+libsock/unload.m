function unload()
%UNLOAD  Unload libsock's shared library from MATLAB.
%   libsock.unload() calls unloadlibrary('libsock') when the library is loaded. Delete (or
%   clear) every libsock object first: their handles live inside the library, and a handle used
%   after unloading fails with an error rather than crashing. The blocking calls libsock makes
%   start no thread, so unloading is clean.
%
%   See also libsock.load.

if libisloaded('libsock')
    unloadlibrary('libsock');
end
end
