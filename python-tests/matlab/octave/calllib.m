function varargout = calllib(lib, fname, varargin)
%CALLLIB  Octave stand-in for MATLAB's calllib over libsock (test use only).
%   [RV, OUT1, ...] = calllib('libsock', NAME, ARGS...) checks the arguments as MATLAB does
%   (count; a libpointer of exactly the parameter's type, or an array of exactly its class, for a
%   pointer; char for a cstring), calls the ls_* function through the generated MEX gateway
%   libsock_mex, stores pointer results back into libpointer arguments, and returns the return
%   value followed by every non-const pointer argument as updated by the call.
persistent protos
if isempty(protos)
    protos = libsock_protos();
end
if ~libisloaded(lib)
    error('MATLAB:calllib:LibraryNotLoaded', 'library %s is not loaded', lib);
end
if ~isfield(protos, fname)
    error('MATLAB:calllib:UndefinedFunction', 'no function %s in %s', fname, lib);
end
pr = protos.(fname);
if numel(varargin) ~= numel(pr.types)
    error('MATLAB:calllib:WrongArgCount', '%s takes %d arguments, got %d', fname, numel(pr.types), numel(varargin));
end
args = varargin;
for k = 1:numel(args)
    t = pr.types{k};
    a = args{k};
    isPtr = numel(t) > 3 && strcmp(t(end - 2:end), 'Ptr');
    if isa(a, 'libpointer')
        if ~strcmp(a.DataType, t)
            error('MATLAB:calllib:TypeMismatch', '%s argument %d: a libpointer of type %s for %s', fname, k, a.DataType, t);
        end
        args{k} = a.Value;
    elseif isPtr && ~isa(a, t(1:end - 3))
        error('MATLAB:calllib:TypeMismatch', '%s argument %d: %s data for %s', fname, k, class(a), t);
    elseif strcmp(t, 'cstring') && ~ischar(a)
        error('MATLAB:calllib:TypeMismatch', '%s argument %d: needs char', fname, k);
    end
end
outs = cell(1, 1 + sum(pr.out));
[outs{:}] = libsock_mex(fname, args{:});
j = 1;
for k = 1:numel(varargin)
    if pr.out(k)
        j = j + 1;
        if isa(varargin{k}, 'libpointer')
            varargin{k}.Value = outs{j};
        end
    end
end
varargout = outs(1:max(nargout, 1));
end
