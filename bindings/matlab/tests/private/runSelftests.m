function failed = runSelftests(prefix, tests, names)
%RUNSELFTESTS  Run each test of a self-test file and report it; return how many failed.
%   FAILED = runSelftests(PREFIX, TESTS, NAMES) calls TESTS{k}([]) for each k, prints
%   "PREFIX: NAME ok" or "PREFIX: NAME FAILED: message (identifier)", then the summary line
%   "PREFIX: N passed, M failed" that CI looks for.
failed = 0;
for k = 1:numel(tests)
    try
        tests{k}([]);
        fprintf('%s: %s ok\n', prefix, names{k});
    catch err
        failed = failed + 1;
        fprintf('%s: %s FAILED: %s (%s)\n', prefix, names{k}, err.message, err.identifier);
    end
end
fprintf('%s: %d passed, %d failed\n', prefix, numel(tests) - failed, failed);
end
