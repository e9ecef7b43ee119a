# client.py of tutorial 003 (shared/seeds 003): sends b'hello!', prints one
# recv(1024). Python 3 as written (one statement per line again). Port 8898
# as in the tutorial; the environment variable TUTORIAL_PORT overrides it
# (the tests use a free port).
#
# Against it: deno run --allow-net=127.0.0.1:8898 examples/phone.ts server --port 8898
import os
import socket
sk = socket.socket()
sk.connect(('127.0.0.1',int(os.environ.get('TUTORIAL_PORT', 8898))))
sk.send(b'hello!')
ret = sk.recv(1024)
print(ret)
sk.close()
