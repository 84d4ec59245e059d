function load(libfile, headerfile)
%LOAD  Load libsock's shared library into MATLAB (once).
%   libsock.load() loads the library under the alias 'libsock' with loadlibrary, unless it is
%   loaded already. Every libsock class calls it, so calling it yourself is only needed to load
%   the library from a place of your choice:
%
%   libsock.load(LIBFILE, HEADERFILE) loads LIBFILE (libsock.so, libsock.dylib or sock.dll)
%   with the prototypes of HEADERFILE (libsock.h). Without arguments the files are found in this
%   order: the environment variables LIBSOCK_LIBRARY and LIBSOCK_HEADER; then the source tree
%   this folder sits in (target/release/ and include/libsock.h, after
%   `cargo build -p libsock-c --release`).
%
%   loadlibrary needs a C compiler on the first load (mex -setup C). To ship without one, load
%   once with loadlibrary(LIBFILE, HEADERFILE, 'alias', 'libsock', 'mfilename', 'libsock_proto')
%   and pass the generated prototype file on other machines: libsock.load(LIBFILE, @libsock_proto).
%
%   Example:
%       libsock.load();
%       disp(libsock.version())
%
%   See also libsock.unload, libsock.TcpClient, libsock.Listener, libsock.Udp.

if libisloaded('libsock')
    return
end
root = fileparts(fileparts(fileparts(fileparts(mfilename('fullpath')))));
if nargin < 1 || isempty(libfile)
    libfile = getenv('LIBSOCK_LIBRARY');
end
if isempty(libfile)
    if ispc
        name = 'sock.dll';
    elseif ismac
        name = 'libsock.dylib';
    else
        name = 'libsock.so';
    end
    libfile = fullfile(root, 'target', 'release', name);
end
if nargin < 2 || isempty(headerfile)
    headerfile = getenv('LIBSOCK_HEADER');
end
if isempty(headerfile)
    headerfile = fullfile(root, 'include', 'libsock.h');
end
if ~isa(headerfile, 'function_handle') && ~isfile(headerfile)
    error('libsock:notFound', 'libsock.h not found at %s (set LIBSOCK_HEADER)', headerfile);
end
if ~isfile(libfile)
    error('libsock:notFound', ['the libsock library is not at %s: build it with ' ...
        '`cargo build -p libsock-c --release` or set LIBSOCK_LIBRARY'], libfile);
end
[~, warnings] = loadlibrary(libfile, headerfile, 'alias', 'libsock'); %#ok<ASGLU>
end
