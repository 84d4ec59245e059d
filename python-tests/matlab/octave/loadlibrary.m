function [notfound, warnings] = loadlibrary(libfile, headerfile, varargin)
%LOADLIBRARY  Octave stand-in (test use only): the MEX gateway is linked to libsock already;
%   this checks the files exist and marks the alias loaded.
if ~isfile(libfile) || ~isfile(headerfile)
    error('MATLAB:loadlibrary:FileNotFound', 'missing %s or %s', libfile, headerfile);
end
libsock_octave_state(true, libfile, headerfile);
notfound = {};
warnings = '';
end
