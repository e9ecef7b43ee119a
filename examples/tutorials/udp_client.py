# client.py of tutorial 003's UDP part (shared/seeds 003): sendto b'hello',
# then recv(1024) and print it. Python 3 as written. Port 9000 as in the
# tutorial; the environment variable TUTORIAL_PORT overrides it (the tests
# use a free port). Like the tutorial's, it waits forever when nobody
# answers: UDP never says that nobody listens.
#
# Against it: deno task example:udp_echo server   (then this prints hello)
import os
import socket
sk = socket.socket(type=socket.SOCK_DGRAM)
sk.sendto(b'hello',('127.0.0.1',int(os.environ.get('TUTORIAL_PORT', 9000))))
msg = sk.recv(1024)
print(msg.decode('utf-8'))
sk.close()
