# The one-shot phone client of tutorial 001 (shared/seeds 001): connect_ex,
# send 'LHF nb', one recv(1024), print it. The tutorial has it on one line;
# here one statement per line, curly quotes made straight; it already
# encodes what it sends, as Python 3 needs. Port 9000 as in the tutorial;
# the environment variable TUTORIAL_PORT overrides it (the tests use a free
# port).
#
# Against it: deno task example:phone server   (then this prints LHF NB)
#_*_coding:utf-8_*_
__author__ = 'YL'
import os
import socket
ip_port=('127.0.0.1',int(os.environ.get('TUTORIAL_PORT', 9000)))
BUFSIZE=1024
s=socket.socket(socket.AF_INET,socket.SOCK_STREAM)
s.connect_ex(ip_port) #拨电话
s.send('LHF nb'.encode('utf-8')) #发消息,说话(只能发送字节类型)
feedback=s.recv(BUFSIZE) #收消息,听话
print(feedback.decode('utf-8'))
s.close() #挂电话
