# The upload client of tutorial 003's "custom protocol 2" (shared/seeds 003,
# "自定义协议2"): the header dict's byte length as struct.pack('i') (native
# order: little-endian on x86 and ARM), the dict (file name and size) as
# JSON, then the file's content. The tutorial describes this protocol
# without printing its code; this is it written the way those tutorials
# write their programs. Port 9000 and the file ./photo.jpg are hard-coded
# as a tutorial would; the environment variables TUTORIAL_PORT and
# TUTORIAL_FILE override them (the tests use a free port and their own file).
#
# Against it: deno task example:file_transfer   (stores the file in ./inbox)
import json
import os
import socket
import struct
sk = socket.socket()
sk.connect(('127.0.0.1', int(os.environ.get('TUTORIAL_PORT', 9000))))
filepath = os.environ.get('TUTORIAL_FILE', './photo.jpg')
filename = os.path.basename(filepath)
filesize = os.path.getsize(filepath)
dic = {'filename': filename, 'filesize': filesize}
str_dic = json.dumps(dic)
b_dic = str_dic.encode('utf-8')
len_dic = len(b_dic)
bytes_len = struct.pack('i', len_dic)
sk.send(bytes_len)
sk.send(b_dic)
with open(filepath, 'rb') as f:
    while filesize > 0:
        content = f.read(1024)
        sk.send(content)
        filesize -= len(content)
sk.close()
