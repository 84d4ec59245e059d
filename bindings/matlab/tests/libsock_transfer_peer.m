function libsock_transfer_peer(workdir)
%LIBSOCK_TRANSFER_PEER  The receiving end of scenario S22, run in a second MATLAB (or Octave)
%   process by libsock_xfer_selftest: MATLAB runs one thread, and both ends of a file transfer
%   wait on each other, so they cannot take turns in one session.
%
%   libsock_transfer_peer(WORKDIR) listens on 127.0.0.1 (port 0), writes the port to
%   WORKDIR/port.txt, then receives two transfers into WORKDIR/out with
%   libsock.FileTransfer.receiver and run: the first (which the sender breaks) without resume,
%   the second with "Resume" true. After each it writes WORKDIR/resultN.txt, one field a line:
%   "ok" or the error's identifier, the error's message, DONE, TOTAL, the state, then (on
%   success) the SHA-256, ResumedAt, Offered and Version. Every wait is bounded (accept 60 s,
%   each read or write 30 s), so the process ends by itself.
%
%   See also libsock_xfer_selftest, libsock.FileTransfer.

addpath(fullfile(fileparts(mfilename('fullpath')), '..'));
l = libsock.Listener('127.0.0.1', 0, 'Timeout', 60);
publish(workdir, 'port.txt', {sprintf('%d', l.Port)});
out = fullfile(workdir, 'out');
for attempt = 1:2
    c = accept(l);
    c.Timeout = 30;
    rx = libsock.FileTransfer.receiver(out, 'Resume', attempt == 2);
    fields = {'ok', '-'};
    try
        run(rx, c);
    catch err
        fields = {err.identifier, err.message};
    end
    [done, total, state] = progress(rx);
    fields = [fields, {sprintf('%d', done), sprintf('%d', total), char(state)}];
    if strcmp(fields{1}, 'ok')
        i = info(rx);
        fields = [fields, {char(i.Sha256), sprintf('%d', i.ResumedAt), sprintf('%d', i.Offered), ...
            sprintf('%d', i.Version)}]; %#ok<AGROW>
    end
    delete(rx);
    delete(c);
    publish(workdir, sprintf('result%d.txt', attempt), fields);
end
delete(l);
end

function publish(workdir, name, lines)
%PUBLISH  Write LINES to WORKDIR/NAME at once (written beside it, then renamed), so the waiting
%   self-test never reads half a file.
tmp = fullfile(workdir, [name '.tmp']);
fid = fopen(tmp, 'w');
fprintf(fid, '%s\n', lines{:});
fclose(fid);
movefile(tmp, fullfile(workdir, name));
end
