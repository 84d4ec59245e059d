classdef (Abstract) EngineObject < handle
    %ENGINEOBJECT  What libsock.Server and libsock.Client share: pulling events, stats, close.
    %   The engine runs on libsock's own threads: it accepts, reads, frames, answers heartbeats and
    %   reconnects while MATLAB does other work. What happens is queued as events, and MATLAB
    %   takes them when it wants to, with poll (never waits: made for a timer callback) or
    %   waitEvents (waits up to a timeout). Nothing calls back into MATLAB from another thread.
    %
    %   Each event is one element of a struct array with the fields
    %       Kind    - "connected", "message", "disconnected", "reconnecting", "datagram",
    %                 "closed" (the last event of a stopped object) or "warning" (a server's
    %                 trouble that ended no connection, once per episode: a slow consumer whose
    %                 send queue is full, Value LS_ERR_QUEUE_FULL with its Client; a failed
    %                 accept, Client 0)
    %       Client  - the client id (uint64; a server's clients are numbered from 1 and never
    %                 reused; a libsock.Client's connection number; for "reconnecting" the
    %                 attempt number)
    %       Data    - the message (uint8 row vector) for "message" and "datagram", else empty
    %       Peer    - the client's address for "connected" (text), else ""
    %       Reason  - for "disconnected": "peer-closed", "reset", "idle-timeout",
    %                 "heartbeat-lost", "frame-too-large", "kicked", "server-shutdown", "error",
    %                 "send-queue-full" or "closed"; else ""
    %       Detail  - for "disconnected" the reason in words, for "warning" what happened, else ""
    %       Value   - the LS_REASON_* code ("disconnected"), the delay in ms ("reconnecting"),
    %                 the LS_ERR_* code of what failed ("warning", e.g. LS_ERR_QUEUE_FULL)
    %
    %   EngineObject properties:
    %       MessageBufferSize  - first buffer offered for an event (it grows to any size)
    %       NumEventsAvailable - events waiting now
    %
    %   EngineObject methods:
    %       poll        - take the waiting events without waiting
    %       waitEvents  - wait up to a timeout for events, then take the waiting ones
    %       stats       - counters (connections, bytes, messages, queued bytes ...)
    %       close       - stop at once and free the handle
    %       delete      - the same when the object goes away
    %
    %   See also libsock.Server, libsock.Client, libsock.EngineConfig, libsock.shutdownEngine.

    properties (SetAccess = protected, Hidden)
        %HANDLE  The C ABI handle (int64); 0 once closed.
        Handle = int64(0)
    end

    properties
        %MESSAGEBUFFERSIZE  Bytes first offered for one event (default 4096). A larger message
        %   is not lost: the library reports its size, the event stays queued, and it is taken
        %   again with a buffer that fits.
        MessageBufferSize = 4096
    end

    properties (SetAccess = protected)
        %STOPPED  True once the final "closed" event was taken (or the handle was closed).
        Stopped = false
    end

    properties (Dependent, SetAccess = private)
        %NUMEVENTSAVAILABLE  Events waiting now (ls_pending_events).
        NumEventsAvailable
    end

    methods
        function n = get.NumEventsAvailable(obj)
            out = libpointer(libsock.ptrtype('size'), 0);
            rc = calllib('libsock', 'ls_pending_events', obj.Handle, out);
            libsock.check(rc);
            n = double(out.Value);
        end

        function set.MessageBufferSize(obj, n)
            validateattributes(n, {'numeric'}, {'scalar', 'integer', 'positive'});
            obj.MessageBufferSize = double(n);
        end

        function events = poll(obj, maxEvents)
            %POLL  Take up to MAXEVENTS waiting events (default 1000) without waiting.
            %   EVENTS = poll(s) returns a struct array (see the class help), empty when nothing
            %   is waiting. It never blocks, so it fits a timer callback:
            %
            %       t = timer("ExecutionMode", "fixedSpacing", "Period", 0.05, ...
            %           "TimerFcn", @(~, ~) myHandler(s, poll(s)));
            %
            %   See also waitEvents.
            if nargin < 2
                maxEvents = 1000;
            end
            events = libsock.EngineObject.noEvents();
            while numel(events) < maxEvents
                [ok, ev] = nextEvent(obj, 0);
                if ~ok
                    break
                end
                events(end + 1) = ev; %#ok<AGROW>
            end
        end

        function events = waitEvents(obj, timeout, maxEvents)
            %WAITEVENTS  Wait up to TIMEOUT seconds for an event, then take the waiting ones.
            %   EVENTS = waitEvents(s, TIMEOUT) blocks MATLAB until at least one event came
            %   (Inf: no limit) and returns it with the others waiting (up to MAXEVENTS, default
            %   1000); empty when the time ran out. After the final "closed" event it returns
            %   at once, empty.
            %
            %   See also poll.
            if nargin < 3
                maxEvents = 1000;
            end
            ms = libsock.Socket.toMs(timeout);
            events = libsock.EngineObject.noEvents();
            [ok, ev] = nextEvent(obj, ms);
            if ok
                events(end + 1) = ev;
                events = [events, poll(obj, maxEvents - 1)];
            end
        end

        function st = stats(obj)
            %STATS  The object's counters as a struct (ls_engine_stats).
            %   Connections (now), ConnectionsTotal, Refused, BytesIn, BytesOut, MessagesIn,
            %   MessagesOut, QueuedBytes, EventsQueued, FailedAttempts, SendQueueFull (sends
            %   refused and broadcast deliveries skipped for a full send queue), AcceptErrors
            %   (failed accepts), TlsFailures (failed TLS handshakes); a counter this kind of object
            %   does not keep is left out.
            names = {'Connections', 'ConnectionsTotal', 'Refused', 'BytesIn', 'BytesOut', ...
                'MessagesIn', 'MessagesOut', 'QueuedBytes', 'EventsQueued', 'FailedAttempts', ...
                'SendQueueFull', 'AcceptErrors', 'TlsFailures'};
            codes = [libsock.LS_STAT_CONNECTIONS, libsock.LS_STAT_CONNECTIONS_TOTAL, ...
                libsock.LS_STAT_REFUSED, libsock.LS_STAT_BYTES_IN, libsock.LS_STAT_BYTES_OUT, ...
                libsock.LS_STAT_MESSAGES_IN, libsock.LS_STAT_MESSAGES_OUT, ...
                libsock.LS_STAT_QUEUED_BYTES, libsock.LS_STAT_EVENTS_QUEUED, ...
                libsock.LS_STAT_FAILED_ATTEMPTS, libsock.LS_STAT_SEND_QUEUE_FULL, ...
                libsock.LS_STAT_ACCEPT_ERRORS, libsock.LS_STAT_TLS_FAILURES];
            st = struct();
            for k = 1:numel(codes)
                code = codes(k);
                out = libpointer(libsock.ptrtype('int64'), 0);
                rc = calllib('libsock', 'ls_engine_stats', obj.Handle, int32(code), out);
                if rc == libsock.LS_ERR_UNSUPPORTED
                    continue
                end
                libsock.check(rc);
                st.(names{k}) = double(out.Value);
            end
        end

        function close(obj)
            %CLOSE  Stop at once and free the handle (ls_close). Closing twice is harmless. A
            %   waitEvents blocked on this object in another thread returns. For a graceful stop
            %   use shutdown (libsock.Server) or disconnect (libsock.Client) first.
            h = obj.Handle;
            obj.Handle = int64(0);
            obj.Stopped = true;
            rc = calllib('libsock', 'ls_close', h);
            libsock.check(rc);
        end

        function delete(obj)
            %DELETE  Free the handle when the object goes away (clear, out of scope).
            if obj.Handle ~= 0 && libisloaded('libsock')
                calllib('libsock', 'ls_close', obj.Handle);
                obj.Handle = int64(0);
            end
        end
    end

    methods (Access = protected)
        function [ok, ev] = nextEvent(obj, ms)
            %NEXTEVENT  Take one event (ls_next_event), waiting up to MS milliseconds; OK false
            %   when none came or the object has stopped. A buffer too small for the event is
            %   grown to the size the library reports, and the event (still queued) taken again.
            ev = [];
            ok = false;
            if obj.Stopped
                return
            end
            cap = obj.MessageBufferSize;
            [rc, kind, client, value, buf, n] = calllib('libsock', 'ls_next_event', obj.Handle, int32(ms), int32(0), uint64(0), int64(0), zeros(1, cap, 'uint8'), uint64(cap), uint64(0));
            while rc == libsock.LS_ERR_BUFFER_TOO_SMALL
                cap = double(n);
                [rc, kind, client, value, buf, n] = calllib('libsock', 'ls_next_event', obj.Handle, int32(libsock.LS_TIMEOUT_POLL), int32(0), uint64(0), int64(0), zeros(1, cap, 'uint8'), uint64(cap), uint64(0));
            end
            if rc == libsock.LS_ERR_TIMEOUT
                return
            end
            if rc == libsock.LS_ERR_CLOSED
                obj.Stopped = true;
                return
            end
            libsock.check(rc);
            ev = libsock.EngineObject.makeEvent(kind, client, value, buf(1:double(n)));
            if kind == libsock.LS_EVENT_CLOSED
                obj.Stopped = true;
            end
            ok = true;
        end
    end

    methods (Static, Hidden)
        function events = noEvents()
            %NOEVENTS  An empty event struct array with the event fields.
            events = struct('Kind', {}, 'Client', {}, 'Data', {}, 'Peer', {}, 'Reason', {}, ...
                'Detail', {}, 'Value', {});
        end

        function ev = makeEvent(kind, client, value, bytes)
            %MAKEEVENT  One event struct from ls_next_event's outputs.
            bytes = reshape(uint8(bytes), 1, []);
            ev = struct('Kind', string(libsock.EngineObject.kindName(kind)), ...
                'Client', uint64(client), 'Data', zeros(1, 0, 'uint8'), 'Peer', string(''), ...
                'Reason', string(''), 'Detail', string(''), 'Value', double(value));
            switch double(kind)
                case {double(libsock.LS_EVENT_MESSAGE), double(libsock.LS_EVENT_DATAGRAM)}
                    ev.Data = bytes;
                case double(libsock.LS_EVENT_CONNECTED)
                    ev.Peer = string(native2unicode(bytes, 'UTF-8'));
                case double(libsock.LS_EVENT_DISCONNECTED)
                    ev.Reason = string(libsock.EngineObject.reasonName(value));
                    ev.Detail = string(native2unicode(bytes, 'UTF-8'));
                case double(libsock.LS_EVENT_WARNING)
                    ev.Detail = string(native2unicode(bytes, 'UTF-8'));
            end
        end

        function name = kindName(kind)
            %KINDNAME  An LS_EVENT_* code to its name: 1 -> 'connected'.
            names = {'connected', 'message', 'disconnected', 'reconnecting', 'datagram', 'closed', ...
                'warning'};
            k = double(kind);
            if k >= 1 && k <= numel(names)
                name = names{k};
            else
                name = sprintf('event%d', k);
            end
        end

        function name = reasonName(code)
            %REASONNAME  An LS_REASON_* code to its name: 4 -> 'heartbeat-lost'.
            names = {'peer-closed', 'reset', 'idle-timeout', 'heartbeat-lost', ...
                'frame-too-large', 'kicked', 'server-shutdown', 'error', 'send-queue-full', ...
                'closed', 'tls'};
            k = double(code);
            if k >= 1 && k <= numel(names)
                name = names{k};
            else
                name = sprintf('reason%d', k);
            end
        end
    end
end
