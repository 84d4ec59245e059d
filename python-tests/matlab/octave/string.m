function s = string(x)
%STRING  Octave stand-in for MATLAB's string() (test use only): text stays char.
%   Octave has no string class. The libsock classes compare text with strcmp and only call
%   string() on values they hand back to the user, so char is a faithful stand-in for what
%   python-tests/test_matlab_path.py runs under Octave (the pure helper methods).
if isnumeric(x)
    s = num2str(x);
else
    s = char(x);
end
end
