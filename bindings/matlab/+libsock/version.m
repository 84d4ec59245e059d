function v = version()
%VERSION  The version of the loaded libsock library, e.g. "0.1.0".
%   v = libsock.version() returns ls_version() as a string (loading the library if needed).
%
%   See also libsock.load.

libsock.load();
v = string(calllib('libsock', 'ls_version'));
end
