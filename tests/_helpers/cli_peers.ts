// Python peers for the wire tests, written as the tutorials write servers:
// plain socket (and ssl), one thread per connection. Each prints its port.

/**
 * A TCP echo server on 127.0.0.1, port 0: argv[1] "upper" upper-cases what
 * it echoes; argv[2] and argv[3], when given, are a certificate and key to
 * speak TLS with. Echoes each connection until its end of stream.
 */
export const PY_ECHO = `
import socket, ssl, sys, threading
mode = sys.argv[1] if len(sys.argv) > 1 else "echo"
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(8)
if len(sys.argv) > 3:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    srv = ctx.wrap_socket(srv, server_side=True)
print(srv.getsockname()[1], flush=True)
def serve(conn):
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data.upper() if mode == "upper" else data)
for _ in range(100):
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
`;
