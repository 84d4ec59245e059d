classdef libpointer < handle
    %LIBPOINTER  Octave stand-in for MATLAB's lib.pointer (test use only).
    %   p = libpointer(DATATYPE, VALUE): DATATYPE such as 'int64Ptr' or 'uint8Ptr'; p.Value holds
    %   the data, converted to the pointer's class as MATLAB converts it. calllib.m passes the
    %   Value to the library and stores what the library wrote back into it.
    properties
        %VALUE  The pointed-to data.
        Value
    end
    properties (SetAccess = private)
        %DATATYPE  The pointer type, e.g. 'int64Ptr'.
        DataType
    end
    methods
        function p = libpointer(datatype, value)
            %LIBPOINTER  Create a pointer of DATATYPE holding VALUE.
            p.DataType = datatype;
            if nargin > 1
                p.Value = cast(value, regexprep(datatype, 'Ptr$', ''));
            end
        end
    end
end
