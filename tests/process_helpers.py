"""Process helpers the tests share: command lines run as subprocesses, one-line error checks, and
multi-worker runs on 127.0.0.1 with free ports, bounded time and every process ended."""

import os
import subprocess
import sys

from helpers import REPO

PORT_TAKEN = ("Address already in use", "Failed to add port", "Failed to bind", "could not listen on")


def assert_one_line_errors(main, cases, capsys):
    """Each (argv, message) of `cases` makes the command line `main` exit 2 with one line on stderr that
    contains `message` (a user error: no traceback)."""
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and err.count("\n") == 1, err


def run_cli(args, cwd=REPO, timeout=300, env=None):
    """Runs a command-line entry point in a subprocess and returns the CompletedProcess."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=full_env)


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (bound together, then released)."""
    import socket

    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def start_workers(args, cwd, n=2, env=None):
    """Starts `n` processes of a command line as the workers of one multi-worker cluster on 127.0.0.1 (a
    TF_CONFIG each, free ports); returns the Popen objects (stdout and stderr merged, text)."""
    import json

    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(n)]}
    processes = []
    for index in range(n):
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TF_CONFIG": config, **(env or {})}
        processes.append(subprocess.Popen([sys.executable, *args], cwd=cwd, env=full_env, text=True,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    return processes


def start_cli(args, cwd, env=None):
    """Starts a command line in a subprocess (stdout and stderr merged, text) without waiting for it."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    full_env.pop("TF_CONFIG", None)
    return subprocess.Popen([sys.executable, *args], cwd=cwd, env=full_env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def finish_workers(processes, timeout=300):
    """Waits for every worker (killing all of them past `timeout` seconds); returns [(exit status, output)]."""
    import time

    deadline, results = time.monotonic() + timeout, []
    try:
        for p in processes:
            out, _ = p.communicate(timeout=max(deadline - time.monotonic(), 1))
            results.append((p.returncode, out))
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.communicate()
    return results


def port_was_taken(results):
    """Whether a worker failed because its port was taken between `free_ports` releasing it and the worker
    binding it (another process got there first): the run is then repeated with new ports."""
    return any(status != 0 and any(m in out for m in PORT_TAKEN) for status, out in results)


def run_workers(args, cwd, n=2, timeout=300, env=None, attempts=3):
    """Runs a command line as an n-worker cluster on 127.0.0.1 and returns [(exit status, output)] per worker
    (again, with new ports, when a port was taken before a worker bound it)."""
    for _ in range(attempts):
        results = finish_workers(start_workers(args, cwd, n, env), timeout)
        if not port_was_taken(results):
            break
    return results


def start_workers_until(args, cwd, ready, timeout=300, attempts=3):
    """Starts an n=2 worker cluster of a command line and waits until `ready()` (a condition, e.g. a checkpoint
    file exists), starting again with new ports when a worker could not bind its port; returns the running
    workers. Fails with the workers' output when one stops first for another reason, or past `timeout`."""
    import time

    for attempt in range(attempts):
        workers, deadline = start_workers(args, cwd=cwd), time.monotonic() + timeout
        while not ready():
            if any(w.poll() is not None for w in workers) or time.monotonic() > deadline:
                results = finish_workers(workers, timeout=60)
                if port_was_taken(results) and attempt < attempts - 1:
                    break
                raise AssertionError(f"the workers stopped or stalled before training: {results}")
            time.sleep(0.2)
        else:
            return workers
    raise AssertionError("no free ports")
