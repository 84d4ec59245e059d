classdef FileTransfer < handle
    %FILETRANSFER  One side of one file transfer over a connection: the file with its name, size
    %   and SHA-256, resumable after a break (the protocol of `libsock send-file`/`recv-file`,
    %   the same in every door).
    %
    %   ft = libsock.FileTransfer.sender(PATH) sends the file at PATH (opened now: a missing
    %   file throws before anything is sent); ft = libsock.FileTransfer.receiver(DEST) receives
    %   into the file DEST, or into the folder DEST under the sender's name. Then either
    %   run(ft, T) moves the whole transfer over libsock.TcpClient T, or step(ft, T) moves one
    %   piece (the handshake, at most 1 MiB of the file, or the checksum exchange) and returns
    %   the state, so a MATLAB loop (or a timer) can show progress(ft) in between and stop with
    %   cancel(ft). Each wait is bounded by T.Timeout.
    %
    %   The receiver writes to NAME.libsock-part beside the final name and renames it only when
    %   the SHA-256 matches, so a partial file never appears under the final name. A broken
    %   transfer leaves the .libsock-part file; a new receiver with "Resume" true offers it and
    %   the sender sends only the rest. A checksum that differs, or a peer that does not speak
    %   the protocol, is 'libsock:badFrame'; an existing file (without "Overwrite") 'libsock:io'.
    %
    %   FileTransfer properties (read-only):
    %       State   - "starting", "transferring", "verifying", "done" or "failed"
    %       Sha256  - the file's SHA-256 in lower-case hex ("" until verified)
    %       Path    - the sender's file, or the receiver's final path ("" before the header)
    %       Name    - the file name the sender announces
    %
    %   FileTransfer methods:
    %       sender, receiver  - (static) make one side
    %       step              - one piece forward; returns the state
    %       run               - to the end
    %       progress          - [DONE, TOTAL, STATE]: bytes so far, the file's size, the state
    %       cancel            - stop at the next step (a receiver keeps its partial file)
    %       info              - struct: Size, Version, Offered, ResumedAt, Name, Path, Sha256
    %       close, delete     - free the transfer (cancels it)
    %
    %   Example (a sender showing its progress):
    %       t = libsock.TcpClient("192.168.1.20", 7000, "Timeout", 30);
    %       ft = libsock.FileTransfer.sender("run42.mat");
    %       while step(ft, t) ~= "done"
    %           [done, total] = progress(ft);
    %           fprintf("%.0f %%\n", 100 * done / total);
    %       end
    %       disp(ft.Sha256)
    %
    %   See also libsock.TcpClient, libsock.Listener.

    properties (SetAccess = private, Hidden)
        %HANDLE  The C ABI handle of the transfer (int64); 0 once closed.
        Handle = int64(0)
    end

    properties (Dependent, SetAccess = private)
        %STATE  "starting", "transferring", "verifying", "done" or "failed".
        State
        %SHA256  The SHA-256 of the whole file in lower-case hex ("" until verified).
        Sha256
        %PATH  The sender's file, or the receiver's final path ("" before the header).
        Path
        %NAME  The file's name as the sender announces it ("" on a receiver before the header).
        Name
    end

    methods (Static)
        function ft = sender(path, varargin)
            %SENDER  A transfer that sends the file at PATH.
            %   ft = libsock.FileTransfer.sender(PATH) opens the file now (a missing or
            %   unreadable file, or a folder, throws here). Name, Value: "Name" (what the
            %   receiver is told; default the file's own name), "Resume" (default true: speak
            %   version 2 of the protocol, which lets a receiver resume; false: version 1, for
            %   old receivers).
            %
            %   Example:
            %       ft = libsock.FileTransfer.sender("data.bin", "Name", "today.bin");
            libsock.load();
            opts = libsock.FileTransfer.options(varargin, struct('Name', '', 'Resume', true));
            out = libpointer(libsock.ptrtype('int64'), 0);
            rc = calllib('libsock', 'ls_transfer_sender', char(path), char(opts.Name), int32(logical(opts.Resume)), out);
            libsock.check(rc);
            ft = libsock.FileTransfer(out.Value);
        end

        function ft = receiver(dest, varargin)
            %RECEIVER  A transfer that receives one file into DEST (a file, or a folder to
            %   write into under the sender's name, made safe: no folder part).
            %   Name, Value: "Overwrite" (default false: an existing DEST file throws
            %   'libsock:io' here; an existing file of the sender's name in a folder after the
            %   header), "Resume" (default false; true offers the .libsock-part file a broken
            %   transfer left, and the sender sends only the rest when it matches).
            %
            %   Example:
            %       ft = libsock.FileTransfer.receiver(tempdir, "Resume", true);
            libsock.load();
            opts = libsock.FileTransfer.options(varargin, struct('Overwrite', false, 'Resume', false));
            out = libpointer(libsock.ptrtype('int64'), 0);
            rc = calllib('libsock', 'ls_transfer_receiver', char(dest), int32(logical(opts.Overwrite)), int32(logical(opts.Resume)), out);
            libsock.check(rc);
            ft = libsock.FileTransfer(out.Value);
        end
    end

    methods
        function obj = FileTransfer(handle)
            %FILETRANSFER  Use libsock.FileTransfer.sender or .receiver (this adopts a handle
            %   of the C ABI).
            if nargin == 0
                return
            end
            obj.Handle = int64(handle);
        end

        function state = step(obj, conn)
            %STEP  Move the transfer one piece forward over libsock.TcpClient CONN and return
            %   the state afterwards ("starting", "transferring", "verifying", "done"). Each
            %   wait is bounded by CONN.Timeout. After "done" a step does nothing; after a
            %   failure it throws 'libsock:invalidArgument' naming the first one. A peer that
            %   closes in the middle is 'libsock:closed' (a receiver keeps the partial file).
            %
            %   Example:
            %       while step(ft, t) ~= "done", end
            out = libpointer('int32Ptr', 0);
            rc = calllib('libsock', 'ls_transfer_step', obj.Handle, libsock.FileTransfer.connHandle(conn), out);
            libsock.check(rc);
            state = libsock.FileTransfer.stateName(out.Value);
        end

        function run(obj, conn)
            %RUN  Run the transfer to its end over libsock.TcpClient CONN (step until "done",
            %   with the same errors). MATLAB waits meanwhile; use step to stay responsive.
            %
            %   Example:
            %       run(libsock.FileTransfer.sender("data.bin"), t)
            rc = calllib('libsock', 'ls_transfer_run', obj.Handle, libsock.FileTransfer.connHandle(conn));
            libsock.check(rc);
        end

        function [done, total, state] = progress(obj)
            %PROGRESS  [DONE, TOTAL, STATE] = progress(ft): the bytes of the file sent or written
            %   so far (counted from the start of the file: a resumed transfer starts at its
            %   offset), the file's size (0 on a receiver before the header) and the state.
            %
            %   Example:
            %       [done, total] = progress(ft); fprintf("%d of %d\n", done, total);
            d = libpointer(libsock.ptrtype('uint64'), 0);
            t = libpointer(libsock.ptrtype('uint64'), 0);
            s = libpointer('int32Ptr', 0);
            rc = calllib('libsock', 'ls_transfer_progress', obj.Handle, d, t, s);
            libsock.check(rc);
            done = double(d.Value);
            total = double(t.Value);
            state = libsock.FileTransfer.stateName(s.Value);
        end

        function cancel(obj)
            %CANCEL  Stop the transfer: its next step (or run) throws 'libsock:interrupted'. A
            %   receiver keeps the partial file, for a later resume.
            rc = calllib('libsock', 'ls_transfer_cancel', obj.Handle);
            libsock.check(rc);
        end

        function s = info(obj)
            %INFO  What is known once the header is through, as a struct: Size (bytes),
            %   Version (1 or 2; 0 before the header), Offered (bytes the receiver offered to
            %   resume from, 0: none), ResumedAt (where the bytes started), Name, Path, Sha256.
            sz = libpointer(libsock.ptrtype('uint64'), 0);
            version = libpointer('int32Ptr', 0);
            offered = libpointer(libsock.ptrtype('uint64'), 0);
            resumed = libpointer(libsock.ptrtype('uint64'), 0);
            rc = calllib('libsock', 'ls_transfer_info', obj.Handle, sz, version, offered, resumed);
            libsock.check(rc);
            s = struct('Size', double(sz.Value), 'Version', double(version.Value), ...
                'Offered', double(offered.Value), 'ResumedAt', double(resumed.Value), ...
                'Name', obj.Name, 'Path', obj.Path, 'Sha256', obj.Sha256);
        end

        function s = get.State(obj)
            [~, ~, s] = progress(obj);
        end

        function s = get.Sha256(obj)
            s = libsock.FileTransfer.text(obj.Handle, 'sha256');
        end

        function s = get.Path(obj)
            s = libsock.FileTransfer.text(obj.Handle, 'path');
        end

        function s = get.Name(obj)
            s = libsock.FileTransfer.text(obj.Handle, 'name');
        end

        function close(obj)
            %CLOSE  Free the transfer (a running one is cancelled). Closing twice is harmless.
            h = obj.Handle;
            obj.Handle = int64(0);
            rc = calllib('libsock', 'ls_close', h);
            libsock.check(rc);
        end

        function delete(obj)
            %DELETE  Free the transfer when the object goes away.
            if obj.Handle ~= 0 && libisloaded('libsock')
                calllib('libsock', 'ls_close', obj.Handle);
                obj.Handle = int64(0);
            end
        end
    end

    methods (Static, Hidden)
        function name = stateName(code)
            %STATENAME  An LS_TRANSFER_* code to core's word in lower case ("transferring").
            names = {'starting', 'transferring', 'verifying', 'done', 'failed'};
            codes = [libsock.LS_TRANSFER_STARTING, libsock.LS_TRANSFER_TRANSFERRING, ...
                libsock.LS_TRANSFER_VERIFYING, libsock.LS_TRANSFER_DONE, libsock.LS_TRANSFER_FAILED];
            k = find(codes == code, 1);
            if isempty(k)
                name = string(sprintf('state%d', double(code)));
            else
                name = string(names{k});
            end
        end

        function h = connHandle(conn)
            %CONNHANDLE  The C ABI handle of a libsock.TcpClient (or an int64 handle).
            if isa(conn, 'libsock.TcpClient')
                h = conn.Handle;
            elseif isa(conn, 'int64') && isscalar(conn)
                h = conn;
            else
                error('libsock:invalidArgument', 'a file transfer runs over a libsock.TcpClient');
            end
        end

        function opts = options(args, opts)
            %OPTIONS  Name, Value pairs into the fields of OPTS (names matched ignoring case).
            if mod(numel(args), 2) ~= 0
                error('libsock:invalidArgument', 'Name, Value pairs expected');
            end
            for k = 1:2:numel(args)
                name = validatestring(args{k}, fieldnames(opts));
                opts.(name) = args{k + 1};
            end
        end

        function s = text(handle, what)
            %TEXT  ls_transfer_name/path/sha256 as a string (the buffer grows to fit).
            cap = 1024;
            for attempt = 1:2
                switch what
                    case 'sha256'
                        [rc, t, n] = calllib('libsock', 'ls_transfer_sha256', handle, blanks(cap), uint64(cap), uint64(0));
                    case 'path'
                        [rc, t, n] = calllib('libsock', 'ls_transfer_path', handle, blanks(cap), uint64(cap), uint64(0));
                    otherwise
                        [rc, t, n] = calllib('libsock', 'ls_transfer_name', handle, blanks(cap), uint64(cap), uint64(0));
                end
                if rc ~= libsock.LS_ERR_BUFFER_TOO_SMALL
                    break
                end
                cap = double(n) + 1;  % a long path: ask again with room for it
            end
            libsock.check(rc);
            t = char(t);
            s = string(t(1:min(numel(t), double(n))));
        end
    end
end
