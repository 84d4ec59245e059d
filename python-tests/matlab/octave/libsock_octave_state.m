function [tf, from] = libsock_octave_state(set, libfile, headerfile)
%LIBSOCK_OCTAVE_STATE  Whether the Octave stand-in counts libsock as loaded, and from which
%   library and header files (test use only; FROM is {LIBFILE, HEADERFILE}).
persistent loaded files
if isempty(loaded)
    loaded = false;
    files = {'', ''};
end
if nargin > 0
    loaded = set;
end
if nargin > 2
    files = {libfile, headerfile};
end
tf = loaded;
from = files;
end
