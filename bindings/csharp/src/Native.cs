// The C ABI of libsock (include/libsock.h) as P/Invoke declarations: one per function of the
// header, with the C types spelled for C# (int32_t int, int64_t long, uint64_t ulong, size_t
// UIntPtr, strings and buffers byte*). .ci/suites/55-csharp.sh checks that every function of the
// header is declared here. Strings are passed as NUL-terminated UTF-8 made by Utf8.Encode.
using System;
using System.Runtime.InteropServices;

namespace Libsock
{
    /// <summary>The native functions of libsock.so (internal: the public classes wrap them).</summary>
    internal static unsafe class Native
    {
        /// <summary>The library name: Mono maps it to libsock.so.0 through Libsock.dll.config,
        /// and otherwise probes libsock.so.</summary>
        internal const string Lib = "libsock";

        /// <summary><c>ls_version</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr ls_version();

        /// <summary><c>ls_strerror</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr ls_strerror(int code);

        /// <summary><c>ls_error_name</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr ls_error_name(int code);

        /// <summary><c>ls_last_error_message</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_last_error_message(byte* buf, UIntPtr cap, UIntPtr* out_len);

        /// <summary><c>ls_last_error</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr ls_last_error();

        /// <summary><c>ls_last_error_code</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_last_error_code();

        /// <summary><c>ls_last_os_error</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_last_os_error();

        /// <summary><c>ls_close</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_close(long handle);

        /// <summary><c>ls_options_new</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_options_new(long* out_handle);

        /// <summary><c>ls_options_set_local_address</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_options_set_local_address(long options_handle, byte* address);

        /// <summary><c>ls_tcp_connect</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tcp_connect(byte* address, int timeout_ms, long* out_handle);

        /// <summary><c>ls_tcp_connect_ex</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tcp_connect_ex(byte* address, int timeout_ms, long options_handle, long* out_handle);

        /// <summary><c>ls_listen</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_listen(byte* address, int backlog, long* out_handle);

        /// <summary><c>ls_listen_ex</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_listen_ex(byte* address, int backlog, long options_handle, long* out_handle);

        /// <summary><c>ls_accept</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_accept(long handle, int timeout_ms, long* out_handle);

        /// <summary><c>ls_udp_bind</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_udp_bind(byte* address, long* out_handle);

        /// <summary><c>ls_udp_bind_ex</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_udp_bind_ex(byte* address, long options_handle, long* out_handle);

        /// <summary><c>ls_udp_connect</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_udp_connect(byte* address, long* out_handle);

        /// <summary><c>ls_udp_connect_ex</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_udp_connect_ex(byte* address, long options_handle, long* out_handle);

        /// <summary><c>ls_send_to</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_send_to(long handle, byte* buf, UIntPtr len, byte* address);

        /// <summary><c>ls_recv_from</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_recv_from(long handle, int timeout_ms, byte* buf, UIntPtr cap, UIntPtr* out_len, byte* peer_buf, UIntPtr peer_cap, UIntPtr* out_peer_len, int* out_truncated);

        /// <summary><c>ls_recv_many</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_recv_many(long handle, int timeout_ms, byte* buf, UIntPtr slot_size, UIntPtr count, UIntPtr* out_lens, int* out_truncated, byte* peer_bufs, UIntPtr* out_count);

        /// <summary><c>ls_join_multicast</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_join_multicast(long handle, byte* group, byte* iface);

        /// <summary><c>ls_leave_multicast</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_leave_multicast(long handle, byte* group, byte* iface);

        /// <summary><c>ls_send</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_send(long handle, byte* buf, UIntPtr len, UIntPtr* out_sent);

        /// <summary><c>ls_send_all</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_send_all(long handle, byte* buf, UIntPtr len);

        /// <summary><c>ls_recv</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_recv(long handle, int timeout_ms, byte* buf, UIntPtr cap, UIntPtr* out_len);

        /// <summary><c>ls_recv_exact</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_recv_exact(long handle, int timeout_ms, byte* buf, UIntPtr len);

        /// <summary><c>ls_recv_until</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_recv_until(long handle, int timeout_ms, byte* delim, UIntPtr dlen, byte* buf, UIntPtr cap, UIntPtr* out_len);

        /// <summary><c>ls_send_msg</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_send_msg(long handle, byte* buf, UIntPtr len);

        /// <summary><c>ls_send_msgs</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_send_msgs(long handle, byte* buf, UIntPtr* lens, UIntPtr count);

        /// <summary><c>ls_recv_msg</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_recv_msg(long handle, int timeout_ms, byte* buf, UIntPtr cap, UIntPtr* out_len);

        /// <summary><c>ls_recv_msgs</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_recv_msgs(long handle, int timeout_ms, byte* buf, UIntPtr cap, UIntPtr count, UIntPtr* out_lens, UIntPtr* out_count);

        /// <summary><c>ls_send_file</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_send_file(long handle, byte* path, ulong offset, long len, ulong* out_sent);

        /// <summary><c>ls_recv_file</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_recv_file(long handle, byte* path, ulong len, ulong* out_received);

        /// <summary><c>ls_set_framing_raw</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_set_framing_raw(long handle);

        /// <summary><c>ls_set_framing_length</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_set_framing_length(long handle, int width, int big_endian, UIntPtr max_len);

        /// <summary><c>ls_set_framing_length_ex</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_set_framing_length_ex(long handle, int width, int big_endian, UIntPtr offset, UIntPtr header_len, long adjustment, UIntPtr max_len, int keep_header);

        /// <summary><c>ls_set_framing_delimited</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_set_framing_delimited(long handle, byte* delim, UIntPtr dlen, UIntPtr max_len, int keep);

        /// <summary><c>ls_set_framing_fixed</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_set_framing_fixed(long handle, UIntPtr size);

        /// <summary><c>ls_set_framing_hp_pack</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_set_framing_hp_pack(long handle, int flag, UIntPtr max_len);

        /// <summary><c>ls_socket_shutdown</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_socket_shutdown(long handle, int how);

        /// <summary><c>ls_bytes_available</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_bytes_available(long handle, UIntPtr* out_count);

        /// <summary><c>ls_local_address</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_local_address(long handle, byte* buf, UIntPtr cap, UIntPtr* out_len);

        /// <summary><c>ls_peer_address</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_peer_address(long handle, byte* buf, UIntPtr cap, UIntPtr* out_len);

        /// <summary><c>ls_local_port</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_local_port(long handle, int* out_port);

        /// <summary><c>ls_set_option</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_set_option(long handle, int option, long value);

        /// <summary><c>ls_get_option</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_get_option(long handle, int option, long* out_value);

        /// <summary><c>ls_set_timeout</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_set_timeout(long handle, int timeout_ms);

        /// <summary><c>ls_get_timeout</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_get_timeout(long handle, int* out_timeout_ms);

        /// <summary><c>ls_engine_config_new</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_engine_config_new(long* out_handle);

        /// <summary><c>ls_engine_config_set</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_engine_config_set(long config_handle, int key, long value);

        /// <summary><c>ls_engine_config_get</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_engine_config_get(long config_handle, int key, long* out_value);

        /// <summary><c>ls_engine_config_set_heartbeat_payloads</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_engine_config_set_heartbeat_payloads(long config_handle, byte* ping, UIntPtr ping_len, byte* pong, UIntPtr pong_len);

        /// <summary><c>ls_server_listen</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_server_listen(byte* address, long config_handle, long* out_handle);

        /// <summary><c>ls_server_send</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_server_send(long handle, ulong client, byte* buf, UIntPtr len);

        /// <summary><c>ls_server_send_many</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_server_send_many(long handle, ulong* clients, UIntPtr count, byte* buf, UIntPtr len, UIntPtr* out_sent);

        /// <summary><c>ls_server_broadcast</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_server_broadcast(long handle, byte* buf, UIntPtr len, ulong except_client, UIntPtr* out_sent);

        /// <summary><c>ls_server_disconnect</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_server_disconnect(long handle, ulong client, int graceful);

        /// <summary><c>ls_server_clients</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_server_clients(long handle, ulong* ids, UIntPtr cap, UIntPtr* out_count);

        /// <summary><c>ls_server_client_address</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_server_client_address(long handle, ulong client, byte* buf, UIntPtr cap, UIntPtr* out_len);

        /// <summary><c>ls_server_shutdown</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_server_shutdown(long handle, int grace_ms);

        /// <summary><c>ls_client_connect</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_client_connect(byte* address, long config_handle, long* out_handle);

        /// <summary><c>ls_client_send</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_client_send(long handle, byte* buf, UIntPtr len);

        /// <summary><c>ls_client_close</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_client_close(long handle, int grace_ms);

        /// <summary><c>ls_dgram_server_bind</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_dgram_server_bind(byte* address, long config_handle, long* out_handle);

        /// <summary><c>ls_dgram_server_send_to</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_dgram_server_send_to(long handle, byte* buf, UIntPtr len, byte* address);

        /// <summary><c>ls_dgram_server_connect</c> of include/libsock.h: <c>address</c> is UTF-8,
        /// NUL-terminated.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_dgram_server_connect(long handle, byte* address);

        /// <summary><c>ls_dgram_server_send</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_dgram_server_send(long handle, byte* buf, UIntPtr len);

        /// <summary><c>ls_next_event</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_next_event(long handle, int timeout_ms, int* out_kind, ulong* out_client, long* out_value, byte* buf, UIntPtr cap, UIntPtr* out_len);

        /// <summary><c>ls_next_messages</c> of include/libsock.h: up to <c>count</c> (at least 1)
        /// MESSAGE events from the head of a server's or client's queue in one call, waiting up to
        /// <c>timeout_ms</c> for the first event: their bodies one after another in <c>buf</c>, body
        /// i's length in <c>out_lens[i]</c>, its client id in <c>out_clients[i]</c> (may be null),
        /// how many in <c>out_count</c>. It stops before an event of another kind (0 messages and
        /// LS_OK when that one is first: ls_next_event takes it) and before a message that no longer
        /// fits; LS_ERR_BUFFER_TOO_SMALL with the size in <c>out_lens[0]</c> when not even the first
        /// fits (it stays queued). A datagram server: LS_ERR_INVALID_ARGUMENT.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_next_messages(long handle, int timeout_ms, byte* buf, UIntPtr cap, UIntPtr count, UIntPtr* out_lens, ulong* out_clients, UIntPtr* out_count);

        /// <summary><c>ls_next_datagram</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_next_datagram(long handle, int timeout_ms, int* out_kind, byte* buf, UIntPtr cap, UIntPtr* out_len, byte* peer_buf, UIntPtr peer_cap, UIntPtr* out_peer_len);

        /// <summary><c>ls_pending_events</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_pending_events(long handle, UIntPtr* out_count);

        /// <summary><c>ls_notify_fd</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_notify_fd(long handle, int* out_fd);

        /// <summary><c>ls_engine_stats</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_engine_stats(long handle, int stat, long* out_value);

        /// <summary><c>ls_shutdown_engine</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_shutdown_engine();

        /// <summary><c>ls_shutdown</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_shutdown();

        /// <summary><c>ls_tls_client_config_new</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_client_config_new(long* out_handle);

        /// <summary><c>ls_tls_server_config_new</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_server_config_new(long* out_handle);

        /// <summary><c>ls_tls_config_free</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_config_free(long handle);

        /// <summary><c>ls_tls_set_ca_file</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_set_ca_file(long handle, byte* path);

        /// <summary><c>ls_tls_set_ca_pem</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_set_ca_pem(long handle, byte* pem, UIntPtr len);

        /// <summary><c>ls_tls_set_bundled_roots</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_set_bundled_roots(long handle);

        /// <summary><c>ls_tls_add_pin</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_add_pin(long handle, byte* sha256_hex);

        /// <summary><c>ls_tls_set_dangerous_no_verify</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_set_dangerous_no_verify(long handle);

        /// <summary><c>ls_tls_set_server_name</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_set_server_name(long handle, byte* name);

        /// <summary><c>ls_tls_set_cert_files</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_set_cert_files(long handle, byte* cert_path, byte* key_path);

        /// <summary><c>ls_tls_set_cert_pem</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_set_cert_pem(long handle, byte* cert, UIntPtr cert_len, byte* key, UIntPtr key_len);

        /// <summary><c>ls_tls_add_sni_cert_pem</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_add_sni_cert_pem(long handle, byte* name, byte* cert, UIntPtr cert_len, byte* key, UIntPtr key_len);

        /// <summary><c>ls_tls_add_sni_cert_files</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_add_sni_cert_files(long handle, byte* name, byte* cert_path, byte* key_path);

        /// <summary><c>ls_tls_set_client_auth</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_set_client_auth(long handle, int mode, byte* ca_pem, UIntPtr ca_len);

        /// <summary><c>ls_tls_set_client_auth_file</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_set_client_auth_file(long handle, int mode, byte* ca_path);

        /// <summary><c>ls_tls_add_alpn</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_add_alpn(long handle, byte* protocol);

        /// <summary><c>ls_tls_set_min_version</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_set_min_version(long handle, int version);

        /// <summary><c>ls_tls_set_handshake_timeout</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_set_handshake_timeout(long handle, int timeout_ms);

        /// <summary><c>ls_tls_set_keylog</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_set_keylog(long handle, int on);

        /// <summary><c>ls_options_set_tls</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_options_set_tls(long options_handle, long tls_handle);

        /// <summary><c>ls_is_tls</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_is_tls(long handle, int* out_is_tls);

        /// <summary><c>ls_tls_version</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_version(long handle, byte* buf, UIntPtr cap, UIntPtr* out_len);

        /// <summary><c>ls_tls_cipher</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_cipher(long handle, byte* buf, UIntPtr cap, UIntPtr* out_len);

        /// <summary><c>ls_tls_alpn</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_alpn(long handle, byte* buf, UIntPtr cap, UIntPtr* out_len);

        /// <summary><c>ls_tls_peer_fingerprint</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_peer_fingerprint(long handle, byte* buf, UIntPtr cap, UIntPtr* out_len);

        /// <summary><c>ls_tls_peer_certificate</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_peer_certificate(long handle, byte* buf, UIntPtr cap, UIntPtr* out_len);

        /// <summary><c>ls_tls_self_signed</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_self_signed(byte* names, byte* cert_buf, UIntPtr cert_cap, UIntPtr* out_cert_len, byte* key_buf, UIntPtr key_cap, UIntPtr* out_key_len);

        /// <summary><c>ls_tls_self_signed_files</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_tls_self_signed_files(byte* names, byte* cert_path, byte* key_path, byte* pin_buf, UIntPtr pin_cap, UIntPtr* out_pin_len);

        /// <summary><c>ls_fingerprint</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_fingerprint(byte* cert, UIntPtr len, byte* buf, UIntPtr cap, UIntPtr* out_len);

        /// <summary><c>ls_engine_config_set_tls</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_engine_config_set_tls(long config_handle, long tls_handle);

        // ------------------------------------------------------------ proxies, descriptors, file transfer

        /// <summary><c>ls_options_set_proxy</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_options_set_proxy(long options_handle, byte* url);

        /// <summary><c>ls_engine_config_set_proxy</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_engine_config_set_proxy(long config_handle, byte* url);

        /// <summary><c>ls_send_fds</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_send_fds(long handle, byte* buf, UIntPtr len, int* fds, UIntPtr nfds);

        /// <summary><c>ls_recv_fds</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_recv_fds(long handle, int timeout_ms, byte* buf, UIntPtr cap, UIntPtr* out_len, int* fds, UIntPtr max_fds, UIntPtr* out_nfds);

        /// <summary><c>ls_peer_credentials</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_peer_credentials(long handle, int* out_pid, ulong* out_uid, ulong* out_gid);

        /// <summary><c>ls_transfer_sender</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_transfer_sender(byte* path, byte* name, int resume, long* out_handle);

        /// <summary><c>ls_transfer_receiver</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_transfer_receiver(byte* dest, int overwrite, int resume, long* out_handle);

        /// <summary><c>ls_transfer_step</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_transfer_step(long transfer_handle, long conn_handle, int* out_state);

        /// <summary><c>ls_transfer_run</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_transfer_run(long transfer_handle, long conn_handle);

        /// <summary><c>ls_transfer_progress</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_transfer_progress(long transfer_handle, ulong* out_done, ulong* out_total, int* out_state);

        /// <summary><c>ls_transfer_cancel</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_transfer_cancel(long transfer_handle);

        /// <summary><c>ls_transfer_info</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_transfer_info(long transfer_handle, ulong* out_size, int* out_version, ulong* out_offered, ulong* out_resumed_at);

        /// <summary><c>ls_transfer_name</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_transfer_name(long transfer_handle, byte* buf, UIntPtr cap, UIntPtr* out_len);

        /// <summary><c>ls_transfer_path</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_transfer_path(long transfer_handle, byte* buf, UIntPtr cap, UIntPtr* out_len);

        /// <summary><c>ls_transfer_sha256</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_transfer_sha256(long transfer_handle, byte* buf, UIntPtr cap, UIntPtr* out_len);

        // ------------------------------------------------------------ KCP, multicast interface, batches, client stats

        /// <summary><c>ls_set_multicast_interface</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_set_multicast_interface(long handle, byte* iface);

        /// <summary><c>ls_server_send_batch</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_server_send_batch(long handle, ulong client, byte* buf, UIntPtr* lens, UIntPtr count, int timeout_ms, UIntPtr* out_sent);

        /// <summary><c>ls_client_send_batch</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_client_send_batch(long handle, byte* buf, UIntPtr* lens, UIntPtr count, int timeout_ms, UIntPtr* out_sent);

        /// <summary><c>ls_server_client_stats</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_server_client_stats(long handle, ulong client, int stat, long* out_value);

        /// <summary><c>ls_kcp_config_new</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_kcp_config_new(long* out_handle);

        /// <summary><c>ls_kcp_config_set</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_kcp_config_set(long config_handle, int key, long value);

        /// <summary><c>ls_kcp_config_get</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_kcp_config_get(long config_handle, int key, long* out_value);

        /// <summary><c>ls_kcp_server_bind</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_kcp_server_bind(byte* address, long config_handle, long kcp_config_handle, long* out_handle);

        /// <summary><c>ls_kcp_connect</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_kcp_connect(byte* address, long conv, long kcp_config_handle, long options_handle, long* out_handle);

        /// <summary><c>ls_kcp_send</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_kcp_send(long handle, int timeout_ms, byte* buf, UIntPtr len);

        /// <summary><c>ls_kcp_recv</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_kcp_recv(long handle, int timeout_ms, byte* buf, UIntPtr cap, UIntPtr* out_len);

        /// <summary><c>ls_kcp_flush</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_kcp_flush(long handle, int timeout_ms);

        /// <summary><c>ls_kcp_poll</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_kcp_poll(long handle, int timeout_ms, UIntPtr* out_ready);

        /// <summary><c>ls_kcp_conv</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_kcp_conv(long handle, long* out_conv);

        /// <summary><c>ls_connection_stats</c> of include/libsock.h.</summary>
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int ls_connection_stats(long handle, int stat, long* out_value);
    }
}
