function ev = firstKind(events, kind)
%FIRSTKIND  The first event of KIND.
for k = 1:numel(events)
    if strcmp(events(k).Kind, kind)
        ev = events(k);
        return
    end
end
error('selftest:noEvent', 'no %s event', kind);
end
