function tf = libisloaded(lib)
%LIBISLOADED  Octave stand-in (test use only).
tf = strcmp(lib, 'libsock') && libsock_octave_state();
end
