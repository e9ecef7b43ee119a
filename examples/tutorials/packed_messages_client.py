# Tutorial 003's "custom protocol 1", the sticky-packet fix (shared/seeds
# 003, "自定义协议1"): each message after a 4-byte struct.pack('i') length,
# sent as two send() calls in a tight loop. The tutorial describes it
# without printing the code; this is it written the way those tutorials
# write theirs. The messages are "message <i> " repeated i % 5 times (so
# every fifth is empty). Port 9000; the environment variables TUTORIAL_PORT
# and TUTORIAL_FORMAT ('i', or '!i' for network byte order) override the
# port and the format (the tests use a free port and both formats).
#
# Against it: a server with lengthPrefixed({ littleEndian: true }) on 9000
import os
import socket
import struct
sk = socket.socket()
sk.connect(('127.0.0.1', int(os.environ.get('TUTORIAL_PORT', 9000))))
fmt = os.environ.get('TUTORIAL_FORMAT', 'i')
for i in range(1000):
    msg = ('message %d ' % i * (i % 5)).encode('utf-8')
    sk.send(struct.pack(fmt, len(msg)))
    sk.send(msg)
sk.close()
