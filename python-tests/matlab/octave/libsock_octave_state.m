function tf = libsock_octave_state(set)
%LIBSOCK_OCTAVE_STATE  Whether the Octave stand-in counts libsock as loaded (test use only).
persistent loaded
if isempty(loaded)
    loaded = false;
end
if nargin > 0
    loaded = set;
end
tf = loaded;
end
