# server.py of tutorial 003's UDP part (shared/seeds 003): one datagram,
# printed, answered b'hi'. Python 3 as written. Port 9000 as in the
# tutorial; the environment variable TUTORIAL_PORT overrides it (the tests
# use a free port).
#
# Against it: deno task example:udp_echo client hello
import os
import socket
sk = socket.socket(type=socket.SOCK_DGRAM)
sk.bind(('127.0.0.1',int(os.environ.get('TUTORIAL_PORT', 9000))))
msg,addr = sk.recvfrom(1024)
print(msg)
sk.sendto(b'hi',addr)
sk.close()
