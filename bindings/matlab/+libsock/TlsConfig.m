classdef TlsConfig < handle
    %TLSCONFIG  TLS settings for libsock.TcpClient, libsock.Listener, libsock.Server and
    %   libsock.Client (a TLS config of the C ABI).
    %   tls = libsock.TlsConfig("client", Name, Value, ...) verifies the server against the
    %   system's roots and the host connected to, unless told otherwise;
    %   tls = libsock.TlsConfig("server", "CertFile", F, "KeyFile", K, ...) serves a certificate.
    %   Pass it as the "Tls" argument of libsock.TcpClient or libsock.Listener (the handshake
    %   completes inside the constructor / accept), or to configureTls of a libsock.EngineConfig
    %   (handshakes run on the engine). A failed handshake throws 'libsock:tls' naming the
    %   reason (unknown CA, name mismatch, pin mismatch, not TLS, no client certificate ...); a
    %   silent peer throws 'libsock:timeout' after HandshakeTimeout.
    %
    %   Name, Value settings:
    %       CaFile, CaPem       - client: trust these CA certificates (PEM file / PEM text)
    %       BundledRoots        - client: trust the Mozilla roots bundled in libsock (true)
    %       Pin                 - client: trust only a server whose certificate (or key) has
    %                             this SHA-256 fingerprint (libsock.fingerprint); a string
    %                             array allows several. The safe way to trust a self-signed
    %                             device.
    %       DangerousNoVerify   - client: verify nothing (true; tests only: pin instead)
    %       ServerName          - client: the name sent by SNI and checked
    %       CertFile, KeyFile   - the certificate chain and key (PEM files): a server's own,
    %                             a client's for mutual TLS
    %       CertPem, KeyPem     - the same as PEM text (e.g. from libsock.selfSigned)
    %       ClientAuth          - server: "none" (default), "optional" or "required" client
    %                             certificates, checked against ClientCaFile
    %       ClientCaFile        - server: the CA certificates (PEM file) for ClientAuth
    %       Alpn                - ALPN protocols, most preferred first (string array)
    %       MinVersion          - "1.2" (default) or "1.3"
    %       HandshakeTimeout    - seconds a handshake may take (default 10)
    %       Keylog              - write session keys to $SSLKEYLOGFILE (true; for Wireshark)
    %
    %   TlsConfig methods:
    %       addPin       - allow one more pinned fingerprint
    %       addAlpn      - offer one more ALPN protocol
    %       addSniCert   - server: a certificate for clients asking for a name by SNI
    %       close, delete - free the config (what it was given to keeps its settings)
    %
    %   Example:
    %       [cert, key] = libsock.selfSigned(["localhost", "127.0.0.1"]);
    %       s = libsock.Server("127.0.0.1", 0, serverCfg);  % serverCfg: configureTls(cfg, ...)
    %       tls = libsock.TlsConfig("client", "Pin", libsock.fingerprint(cert));
    %       t = libsock.TcpClient("127.0.0.1", s.Port, "Tls", tls);
    %       info = tlsInfo(t)    % Version "TLSv1.3", Cipher, Alpn, PeerFingerprint ...
    %
    %   See also libsock.selfSigned, libsock.fingerprint, libsock.TcpClient,
    %   libsock.EngineConfig.

    properties (SetAccess = private, Hidden)
        %HANDLE  The C ABI handle of the config (int64); 0 once closed.
        Handle = int64(0)
    end

    properties (SetAccess = private)
        %SIDE  "client" or "server".
        Side = "client"
    end

    methods
        function obj = TlsConfig(side, varargin)
            %TLSCONFIG  Create a client or server config (see the class help).
            libsock.load();
            if nargin < 1
                side = "client";
            end
            side = validatestring(char(side), {'client', 'server'});
            out = libpointer(libsock.ptrtype('int64'), 0);
            if strcmp(side, 'client')
                rc = calllib('libsock', 'ls_tls_client_config_new', out);
            else
                rc = calllib('libsock', 'ls_tls_server_config_new', out);
            end
            libsock.check(rc);
            obj.Handle = out.Value;
            obj.Side = string(side);
            names = {'CaFile', 'CaPem', 'BundledRoots', 'Pin', 'DangerousNoVerify', ...
                'ServerName', 'CertFile', 'KeyFile', 'CertPem', 'KeyPem', 'ClientAuth', ...
                'ClientCaFile', 'Alpn', 'MinVersion', 'HandshakeTimeout', 'Keylog'};
            opts = struct();
            for k = 1:2:numel(varargin)
                name = validatestring(varargin{k}, names);
                opts.(name) = varargin{k + 1};
            end
            apply(obj, opts);
        end

        function addPin(obj, fingerprint)
            %ADDPIN  Client: also trust a server whose certificate (or public key) has this
            %   SHA-256 fingerprint (64 hex digits, colons allowed).
            rc = calllib('libsock', 'ls_tls_add_pin', obj.Handle, char(fingerprint));
            libsock.check(rc);
        end

        function addAlpn(obj, protocol)
            %ADDALPN  Offer (client) or accept (server) one more ALPN protocol.
            rc = calllib('libsock', 'ls_tls_add_alpn', obj.Handle, char(protocol));
            libsock.check(rc);
        end

        function addSniCert(obj, name, certFile, keyFile)
            %ADDSNICERT  Server: serve this certificate and key (PEM files) to clients that ask
            %   for NAME by SNI; the others get the default certificate.
            rc = calllib('libsock', 'ls_tls_add_sni_cert_files', obj.Handle, char(name), ...
                char(certFile), char(keyFile));
            libsock.check(rc);
        end

        function close(obj)
            %CLOSE  Free the config (ls_tls_config_free); what it was given to keeps its settings.
            h = obj.Handle;
            obj.Handle = int64(0);
            rc = calllib('libsock', 'ls_tls_config_free', h);
            libsock.check(rc);
        end

        function delete(obj)
            %DELETE  Free the config when the object goes away.
            if obj.Handle ~= 0 && libisloaded('libsock')
                calllib('libsock', 'ls_close', obj.Handle);
                obj.Handle = int64(0);
            end
        end
    end

    methods (Access = private)
        function apply(obj, opts)
            %APPLY  The constructor's Name, Value settings, one ls_tls_* setter each.
            h = obj.Handle;
            if isfield(opts, 'CaFile')
                libsock.check(calllib('libsock', 'ls_tls_set_ca_file', h, char(opts.CaFile)));
            end
            if isfield(opts, 'CaPem')
                pem = uint8(char(opts.CaPem));
                libsock.check(calllib('libsock', 'ls_tls_set_ca_pem', h, pem, uint64(numel(pem))));
            end
            if isfield(opts, 'BundledRoots') && opts.BundledRoots
                libsock.check(calllib('libsock', 'ls_tls_set_bundled_roots', h));
            end
            if isfield(opts, 'Pin')
                pins = cellstr(opts.Pin);
                for k = 1:numel(pins)
                    addPin(obj, pins{k});
                end
            end
            if isfield(opts, 'DangerousNoVerify') && opts.DangerousNoVerify
                libsock.check(calllib('libsock', 'ls_tls_set_dangerous_no_verify', h));
            end
            if isfield(opts, 'ServerName')
                libsock.check(calllib('libsock', 'ls_tls_set_server_name', h, char(opts.ServerName)));
            end
            if isfield(opts, 'CertFile') || isfield(opts, 'KeyFile')
                if ~(isfield(opts, 'CertFile') && isfield(opts, 'KeyFile'))
                    error('libsock:invalidArgument', 'invalid argument: CertFile and KeyFile go together');
                end
                libsock.check(calllib('libsock', 'ls_tls_set_cert_files', h, char(opts.CertFile), ...
                    char(opts.KeyFile)));
            end
            if isfield(opts, 'CertPem') || isfield(opts, 'KeyPem')
                if ~(isfield(opts, 'CertPem') && isfield(opts, 'KeyPem'))
                    error('libsock:invalidArgument', 'invalid argument: CertPem and KeyPem go together');
                end
                cert = uint8(char(opts.CertPem));
                key = uint8(char(opts.KeyPem));
                libsock.check(calllib('libsock', 'ls_tls_set_cert_pem', h, cert, uint64(numel(cert)), ...
                    key, uint64(numel(key))));
            end
            if isfield(opts, 'ClientAuth')
                modes = {'none', 'optional', 'required'};
                mode = find(strcmp(validatestring(char(opts.ClientAuth), modes), modes)) - 1;
                ca = '';
                if isfield(opts, 'ClientCaFile')
                    ca = char(opts.ClientCaFile);
                end
                libsock.check(calllib('libsock', 'ls_tls_set_client_auth_file', h, int32(mode), ca));
            end
            if isfield(opts, 'Alpn')
                protocols = cellstr(opts.Alpn);
                for k = 1:numel(protocols)
                    addAlpn(obj, protocols{k});
                end
            end
            if isfield(opts, 'MinVersion')
                versions = {'1.2', '1.3'};
                v = validatestring(char(opts.MinVersion), versions);
                code = libsock.LS_TLS_VERSION_1_2;
                if strcmp(v, '1.3')
                    code = libsock.LS_TLS_VERSION_1_3;
                end
                libsock.check(calllib('libsock', 'ls_tls_set_min_version', h, int32(code)));
            end
            if isfield(opts, 'HandshakeTimeout')
                ms = libsock.Socket.toMs(opts.HandshakeTimeout);
                libsock.check(calllib('libsock', 'ls_tls_set_handshake_timeout', h, int32(ms)));
            end
            if isfield(opts, 'Keylog')
                libsock.check(calllib('libsock', 'ls_tls_set_keylog', h, int32(logical(opts.Keylog))));
            end
        end
    end

    methods (Static, Hidden)
        function h = optionsFor(tls)
            %OPTIONSFOR  A new options handle (free it with ls_close) with TLS config TLS
            %   attached, for ls_tcp_connect_ex and ls_listen_ex.
            if ~isa(tls, 'libsock.TlsConfig')
                error('libsock:invalidArgument', 'invalid argument: Tls must be a libsock.TlsConfig');
            end
            out = libpointer(libsock.ptrtype('int64'), 0);
            libsock.check(calllib('libsock', 'ls_options_new', out));
            h = out.Value;
            rc = calllib('libsock', 'ls_options_set_tls', h, tls.Handle);
            if rc ~= 0
                calllib('libsock', 'ls_close', h);
            end
            libsock.check(rc);
        end
    end
end
