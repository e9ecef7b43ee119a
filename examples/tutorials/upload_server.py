# The receiving side of tutorial 003's "custom protocol 2" upload (shared/
# seeds 003, "自定义协议2"; described there, not printed): recv(4) for the
# header's length (struct.unpack('i')), the JSON dict, then filesize bytes
# written to a file of that name in the working directory. One upload, then
# it exits. Written the way those tutorials write their programs (it trusts
# the name it is sent: run it in a directory of its own). Port 9000 as a
# tutorial would hard-code it; the environment variable TUTORIAL_PORT
# overrides it (the tests use a free port).
#
# Against it: deno run --allow-net=127.0.0.1:9000 --allow-read=./photo.jpg examples/file_transfer.ts send ./photo.jpg --format tutorial
import json
import os
import socket
import struct
sk = socket.socket()
sk.bind(('127.0.0.1', int(os.environ.get('TUTORIAL_PORT', 9000))))
sk.listen()
conn, addr = sk.accept()
bytes_len = conn.recv(4)
len_dic = struct.unpack('i', bytes_len)[0]
str_dic = conn.recv(len_dic).decode('utf-8')
dic = json.loads(str_dic)
with open(dic['filename'], 'wb') as f:
    while dic['filesize'] > 0:
        content = conn.recv(1024)
        f.write(content)
        dic['filesize'] -= len(content)
conn.close()
sk.close()
