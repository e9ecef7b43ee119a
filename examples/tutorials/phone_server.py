# The phone server of tutorial 001 (shared/seeds 001) with its connection
# loop and communication loop ("加上链接循环与通信循环"), and the
# SO_REUSEADDR line the tutorial adds so a restart does not meet "Address
# already in use" (TIME_WAIT). Ported to Python 3: the flattened code
# indented again; print() already a function; nothing else changed. Port 8080
# as in the tutorial; the environment variable TUTORIAL_PORT overrides it
# (the tests use a free port). It runs until killed (Ctrl-C).
#
# Against it: deno run --allow-net=127.0.0.1:8080 examples/phone.ts client --port 8080
import os
import socket
phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM) #买手机
phone.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1) #就是它,在bind前加
phone.bind(("127.0.0.1", int(os.environ.get("TUTORIAL_PORT", 8080)))) #插入手机卡
phone.listen(5) #开机
while True: #链接循环
    conn, addr = phone.accept() #接电话
    print("client :", addr)
    while True: #通讯循环
        try:
            data = conn.recv(1024) #收消息
            if not data:
                break #针对linux,客户端断开链接的异常处理
            print("from client msg: %s" % data)
            conn.send(data.upper()) #发消息
        except Exception:
            break
    conn.close() #挂电话
phone.close() #关机
