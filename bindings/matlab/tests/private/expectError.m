function expectError(id, f)
%EXPECTERROR  Call F and require an error with identifier ID (any error when ID is empty).
try
    f();
catch err
    assert(isempty(id) || strcmp(err.identifier, id), 'expected %s, got %s: %s', id, ...
        err.identifier, err.message);
    return
end
error('selftest:noError', 'expected %s, no error', id);
end
