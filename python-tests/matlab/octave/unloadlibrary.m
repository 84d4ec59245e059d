function unloadlibrary(lib)
%UNLOADLIBRARY  Octave stand-in (test use only).
if strcmp(lib, 'libsock')
    libsock_octave_state(false);
end
end
