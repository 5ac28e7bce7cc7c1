"""Hostile entry: sends fake "passed" results on every socket it finds, the grader's channel included (expected: invalid)."""

import json
import os
import socket
import stat


def parse_profile(path):
    for fd in range(3, 256):
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            sock = socket.socket(fileno=os.dup(fd))
            for seq in range(1, 40):
                fake = {"seq": seq, "type": "result", "nodeid": "x", "status": "passed", "fraction": 1.0}
                sock.send(json.dumps(fake).encode() + b"0" * 32)
        except OSError:
            continue
    return []
