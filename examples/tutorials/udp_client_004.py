# The UDP client of tutorial 004 (shared/seeds 004): one sendto, nothing
# received. Ported to Python 3: the message encoded (sendto takes bytes),
# the stray ')' before sendto removed, the LAN address 192.168.33.5
# replaced by 127.0.0.1. Port 6666 as in the tutorial; the environment
# variable TUTORIAL_PORT overrides it (the tests use a free port).
#
# Against it: deno run --allow-net=127.0.0.1 examples/udp_echo.ts server --port 6666
import os
import socket

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server_address = ('127.0.0.1', int(os.environ.get('TUTORIAL_PORT', 6666)))
#sock.connect(server_address)

message = 'hello,world'
sock.sendto(message.encode(), server_address)
