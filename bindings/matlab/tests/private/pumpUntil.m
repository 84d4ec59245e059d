function events = pumpUntil(obj, done, timeout)
%PUMPUNTIL  Take events of OBJ until DONE(events so far) is true (error after TIMEOUT s).
events = libsock.EngineObject.noEvents();
t0 = tic;
while ~done(events)
    assert(toc(t0) < timeout, 'timed out after %d events', numel(events));
    events = [events, waitEvents(obj, 0.05)]; %#ok<AGROW>
end
end
