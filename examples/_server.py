"""Starts examples/slow_server.py as a child process and stops it at exit."""
import atexit
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def start(delay, size=4096):
    """Returns the port of a fresh slow server answering after `delay` seconds."""
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "slow_server.py"), "--delay", str(delay), "--size", str(size)],
                            stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())
    proc.stdout.close()
    atexit.register(lambda: (proc.kill(), proc.wait()))
    return port
