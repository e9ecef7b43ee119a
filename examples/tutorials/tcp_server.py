# server.py of tutorial 003 (shared/seeds 003, "基于tcp协议的socket"): one
# connection, one recv(1024), answered b'hi'. Python 3 as written (one
# statement per line again). Port 8898 as in the tutorial; the environment
# variable TUTORIAL_PORT overrides it (the tests use a free port).
#
# Against it: deno run --allow-net=127.0.0.1:8898 examples/phone.ts client --port 8898
import os
import socket
sk = socket.socket()
sk.bind(('127.0.0.1',int(os.environ.get('TUTORIAL_PORT', 8898))))
sk.listen()
conn,addr = sk.accept()
ret = conn.recv(1024)
print(ret)
conn.send(b'hi')
conn.close()
sk.close()
