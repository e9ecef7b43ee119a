# The UDP server of tutorial 001 (shared/seeds 001, "udp套接字简单示例"):
# recvfrom(1024), print, reply upper-cased, forever (Ctrl-C stops it).
# Ported to Python 3: indented again, curly quotes made straight; bytes
# already. Port 9000 as in the tutorial; the environment variable
# TUTORIAL_PORT overrides it (the tests use a free port).
#
# Against it: deno task example:udp_echo client
#_*_coding:utf-8_*_
import os
import socket
ip_port=('127.0.0.1',int(os.environ.get('TUTORIAL_PORT', 9000)))
BUFSIZE=1024
udp_server_client=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
udp_server_client.bind(ip_port)
while True:
    msg,addr=udp_server_client.recvfrom(BUFSIZE)
    print(msg,addr)
    udp_server_client.sendto(msg.upper(),addr)
