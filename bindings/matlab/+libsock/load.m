function load(libfile, headerfile)
%LOAD  Load libsock's shared library into MATLAB (once).
%   libsock.load() loads the library under the alias 'libsock' with loadlibrary, unless it is
%   loaded already. Every libsock class calls it, so calling it yourself is only needed to load
%   the library from a place of your choice:
%
%   libsock.load(LIBFILE, HEADERFILE) loads LIBFILE (libsock.so, libsock.dylib or sock.dll)
%   with the prototypes of HEADERFILE (libsock.h). Without arguments the files are found in this
%   order: the environment variables LIBSOCK_LIBRARY and LIBSOCK_HEADER; then the toolbox this
%   package sits in (the folder holding +libsock: lib/<arch>/ with the library, <arch> being
%   computer('arch'): glnxa64, win64, maci64, maca64; include/libsock.h); then the source tree
%   (target/release/ and include/libsock.h, after `cargo build -p libsock-c --release`).
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
toolbox = fileparts(fileparts(mfilename('fullpath')));   % the folder holding +libsock
root = fileparts(fileparts(toolbox));                    % the source tree, when in one
if ispc
    name = 'sock.dll';
elseif ismac
    name = 'libsock.dylib';
else
    name = 'libsock.so';
end
if nargin < 1 || isempty(libfile)
    libfile = getenv('LIBSOCK_LIBRARY');
end
if isempty(libfile)
    libfile = fullfile(toolbox, 'lib', platform_folder(), name);
    if ~isfile(libfile)
        libfile = fullfile(root, 'target', 'release', name);
    end
end
if nargin < 2 || isempty(headerfile)
    headerfile = getenv('LIBSOCK_HEADER');
end
if isempty(headerfile)
    headerfile = fullfile(toolbox, 'include', 'libsock.h');
    if ~isfile(headerfile)
        headerfile = fullfile(root, 'include', 'libsock.h');
    end
end
if ~isa(headerfile, 'function_handle') && ~isfile(headerfile)
    error('libsock:notFound', 'libsock.h not found at %s (set LIBSOCK_HEADER)', headerfile);
end
if ~isfile(libfile)
    error('libsock:notFound', ['the libsock library is neither in this toolbox (%s) nor at %s: ' ...
        'install the toolbox for this platform, build it with `cargo build -p libsock-c --release` ' ...
        'or set LIBSOCK_LIBRARY'], fullfile(toolbox, 'lib', platform_folder(), name), libfile);
end
[~, warnings] = loadlibrary(libfile, headerfile, 'alias', 'libsock'); %#ok<ASGLU>
end

function arch = platform_folder()
%PLATFORM_FOLDER  The toolbox's folder for this platform: MATLAB's computer('arch') (glnxa64,
%   win64, maci64, maca64); under Octave, whose computer() names a GNU triplet, the same names.
if ~exist('OCTAVE_VERSION', 'builtin')
    arch = computer('arch');
    return
end
triplet = computer();
is64arm = ~isempty(strfind(triplet, 'aarch64')) || ~isempty(strfind(triplet, 'arm64'));
if ~isempty(strfind(triplet, 'linux')) && ~isempty(strfind(triplet, 'x86_64'))
    arch = 'glnxa64';
elseif ~isempty(strfind(triplet, 'apple')) && is64arm
    arch = 'maca64';
elseif ~isempty(strfind(triplet, 'apple'))
    arch = 'maci64';
elseif ~isempty(strfind(triplet, 'mingw')) || ~isempty(strfind(triplet, 'windows'))
    arch = 'win64';
else
    arch = triplet;
end
end
