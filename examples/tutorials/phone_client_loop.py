# The phone client of tutorial 001 (shared/seeds 001) with its `while True`
# loop: each line typed is sent, one recv(1024) printed. It has no way out:
# at the end of its input, input() raises EOFError (as in the tutorial; stop
# it with Ctrl-D or Ctrl-C). Ported to Python 3: indented again; input() and
# print() as written. Port 8080 as in the tutorial; the environment variable
# TUTORIAL_PORT overrides it (the tests use a free port).
#
# Against it: deno run --allow-net=127.0.0.1:8080 examples/phone.ts server --port 8080
import os
import socket
client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client.connect(("127.0.0.1", int(os.environ.get("TUTORIAL_PORT", 8080)))) #拨通电话
while True:
    msg = input(">>>: ")
    client.send(msg.encode("utf-8"))
    data = client.recv(1024)
    print(data)
client.close()
