"""Checking the daemon's ports before it binds them, so a taken port is one line that says which port, who holds
it when this machine lets us see, and the flag that moves it (instead of grpc's C-core log and a traceback).

Who holds a port is read from Linux's /proc (the listening socket's inode, then the process with that socket
open); elsewhere, or for another user's process, the message says how to look it up.
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path

from reelmark.core.daemon.security import split_address
from reelmark.core.errors import ReelmarkError


class PortInUseError(ReelmarkError):
    status = "UNAVAILABLE"


def check_port_free(address: str, what: str, flag: str) -> None:
    """Raise `PortInUseError` if `address` (HOST:PORT) cannot be bound now; port 0 (any free port) always can.

    `what` names the listener ("gRPC", "JSON over HTTP"); `flag` is the option that sets its address."""
    host, port = split_address(address)
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is no conflict
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise PortInUseError(f"cannot serve {what} on {address}: {error.strerror}; choose another address "
                                     f"with {flag} HOST:PORT") from None  # fmt: skip
            raise PortInUseError(
                f"cannot serve {what} on {address}: port {port} is in use{_holder(port)}; stop that process or "
                f"choose another port with {flag} {host}:PORT"
            ) from None


def _holder(port: int) -> str:
    """' by pid N (command)' for the process listening on `port`, when /proc shows it; else how to find it."""
    inodes = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            return f" (see who with `lsof -i :{port}`)"
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rpartition(":")[2], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{inode}]")
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        try:
            if any(str(link.readlink()) in inodes for link in (process / "fd").iterdir()):
                command = " ".join((process / "cmdline").read_bytes().decode(errors="replace").replace("\0", " ").split())
                return f" by pid {process.name} ({command[:80]})"
        except OSError:  # another user's process, or one that just ended
            continue
    return f" by another user's process (see who with `sudo lsof -i :{port}`)"
