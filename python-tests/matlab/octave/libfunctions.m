function s = libfunctions(lib, varargin)
%LIBFUNCTIONS  Octave stand-in (test use only): libfunctions(lib, '-full') signatures.
if ~libisloaded(lib)
    error('MATLAB:libfunctions:LibraryNotLoaded', 'library %s is not loaded', lib);
end
p = libsock_protos();
s = p.signatures__;
end
