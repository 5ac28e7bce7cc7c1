"""Hostile entry: reaches out to the internet (expected: graded, 0 points, "Network is unreachable")."""

import socket


def parse_profile(path):
    with socket.create_connection(("1.1.1.1", 80), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        return sock.recv(100)
