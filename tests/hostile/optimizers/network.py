# threat: open network connections, including to services on loopback (the test serves one on GRADER_TEST_PORT)
import socket

for host, port in (("127.0.0.1", int(open(__file__).read().split("PORT=")[-1].split()[0])), ("8.8.8.8", 53),
                   ("pypi.org", 443)):
    try:
        socket.create_connection((host, port), timeout=2).sendall(b"stolen")
        print("connected", host, port)
    except OSError as exc:
        print("refused", host, port, exc)
# PORT=0
