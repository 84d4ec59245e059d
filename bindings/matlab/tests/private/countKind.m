function n = countKind(events, kind)
%COUNTKIND  How many EVENTS are of KIND.
n = 0;
for k = 1:numel(events)
    n = n + strcmp(events(k).Kind, kind);
end
end
