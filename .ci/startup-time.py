#!/usr/bin/env python3
"""Start-up to first PONG, as .ci/aot-test.sh reports it.

Usage: startup-time.py RUNS PORT SERVER-COMMAND...
Starts the server RUNS times (with --port PORT --bind 127.0.0.1 --loglevel warning appended). For each start:
wall time from just before fork/exec to the first +PONG read back, probing with a fresh connection and an inline
PING every millisecond (one process; a probe per fork would compete with the server for the CPU); the server's
CPU time to that point (all threads, /proc/PID/task/*/schedstat) and its minor page faults. Prints each run on
stderr, then "<best wall> <median wall> <median cpu> <median faults>" (ms, ms, ms, count) on stdout.
"""
import glob, socket, statistics, subprocess, sys, time


def start_once(command, port):
    started = time.monotonic_ns()
    server = subprocess.Popen(command + ["--port", str(port), "--bind", "127.0.0.1", "--loglevel", "warning"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if server.poll() is not None:
                sys.exit(f"server exited ({server.returncode}) before answering")
            if time.monotonic_ns() - started > 30e9:
                sys.exit("no PONG in 30 s")
            time.sleep(0.001)
        wall = (time.monotonic_ns() - started) / 1e6
        cpu_ns = 0
        for task in glob.glob(f"/proc/{server.pid}/task/*/schedstat"):
            try:
                cpu_ns += int(open(task).read().split()[0])
            except OSError:
                pass
        faults = int(open(f"/proc/{server.pid}/stat").read().rsplit(")", 1)[1].split()[7])
        return wall, cpu_ns / 1e6, faults
    finally:
        server.terminate()
        server.wait()


def main():
    runs, port, command = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    results = [start_once(command, port) for _ in range(runs)]
    walls = [r[0] for r in results]
    print("   wall ms: " + " ".join(f"{r[0]:.0f}" for r in results), file=sys.stderr)
    print("   cpu ms:  " + " ".join(f"{r[1]:.0f}" for r in results), file=sys.stderr)
    print(f"{min(walls):.0f} {statistics.median(walls):.0f} {statistics.median(r[1] for r in results):.0f} "
          f"{statistics.median(r[2] for r in results):.0f}")


main()
