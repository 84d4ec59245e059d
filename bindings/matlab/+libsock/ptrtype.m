function t = ptrtype(kind)
%PTRTYPE  The lib.pointer type loadlibrary gave one of libsock's out-parameter kinds.
%   T = libsock.ptrtype(KIND) returns the DataType to give libpointer for an out-parameter of
%   KIND: 'int64' (int64_t *, the handles), 'size' (size_t *), 'uint64' (uint64_t *, byte
%   counts of files), 'int32' (int32_t *) or 'uint8' (uint8_t *). For example libsock.ptrtype('int64') is 'int64Ptr' on most platforms.
%
%   loadlibrary names a pointer type after the C type behind the typedef, and that differs by
%   platform (int64_t is long on 64-bit Linux and long long on Windows; size_t is unsigned long
%   or unsigned long long). So the names are read once from libfunctions('libsock', '-full')
%   (ls_tcp_connect's third parameter, ls_bytes_available's second, ...) instead of being
%   assumed; the usual names are the fallback.
%
%   Example:
%       out = libpointer(libsock.ptrtype('int64'), 0);
%       rc = calllib('libsock', 'ls_tcp_connect', '127.0.0.1:5000', int32(1000), out);
%
%   See also libpointer, libfunctions, libsock.load.

persistent types
if isempty(types)
    libsock.load();
    sigs = libfunctions('libsock', '-full');
    types = struct( ...
        'int64', argType(sigs, 'ls_tcp_connect', 3, 'int64Ptr'), ...
        'size', argType(sigs, 'ls_bytes_available', 2, 'uint64Ptr'), ...
        'int32', argType(sigs, 'ls_local_port', 2, 'int32Ptr'), ...
        'uint64', argType(sigs, 'ls_send_file', 5, 'uint64Ptr'), ...
        'uint8', argType(sigs, 'ls_recv', 3, 'uint8Ptr'));
end
t = types.(kind);
end

function t = argType(sigs, fname, k, default)
%ARGTYPE  The type of parameter K of FNAME in libfunctions -full output, e.g.
%   '[int32, int64Ptr] ls_tcp_connect(cstring, int32, int64Ptr)' -> 'int64Ptr'.
t = default;
hit = sigs(~cellfun(@isempty, strfind(sigs, [' ' fname '('])));
if isempty(hit)
    return
end
args = regexp(hit{1}, '\((.*)\)', 'tokens', 'once');
if isempty(args)
    return
end
parts = strtrim(strsplit(args{1}, ','));
if numel(parts) >= k && numel(parts{k}) > 3 && strcmp(parts{k}(end - 2:end), 'Ptr')
    t = parts{k};
end
end
