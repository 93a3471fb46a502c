"""The checker's fork server: imports what the checks need once, then forks a fresh checker per submission.

Started by ``grading.checker.judge.start`` with the repository on ``sys.path`` and nothing else,
never by hand; it listens on a Unix socket in a folder only this user can open. For each
connection it forks a child, which sends its PID (so that the grader can kill it when its time
is up), reads one job, judges it (``judge.judge_job``) and sends the results. The server itself
only accepts and forks: it runs no check, and so no torch operation starts its thread pools
before a fork.
"""

import json
import os
import signal
import socket
import sys
import traceback

import matplotlib

matplotlib.use("Agg")  # the checker has no screen; set before any check imports pyplot

import sklearn.datasets  # noqa: E402, F401  (the checks' data; imported once, here)
import sklearn.model_selection  # noqa: E402, F401
import torch  # noqa: E402, F401
import torch.utils.data  # noqa: E402, F401

from grading.checker import judge, rebuild  # noqa: E402, F401
from grading.sandbox import die_with_parent  # noqa: E402

JOB_LIMIT = 4 * 2**30  # bytes of one job: a class's largest hand-overs, base64, with the check code


def warm_up() -> None:
    """Pay once, here, what every checker would pay on first use: torch's kernels and optimizers, matplotlib's fonts.

    Torch runs on one thread in the checkers, so that no thread pool exists when the server forks
    (a pool does not survive a fork); the checks' models are small enough for one.
    """
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    layers = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten())
    with torch.inference_mode():
        torch.nn.functional.linear(layers(torch.zeros(2, 1, 8, 8)), torch.zeros(3, 18)).argmax(dim=1)
    torch.optim.SGD(layers.parameters(), lr=0.1)  # its first construction imports torch._dynamo: 3 s
    from matplotlib.figure import Figure

    figure = Figure()
    axes = figure.add_subplot()
    axes.contourf([[0.0, 1.0], [1.0, 0.0]])
    axes.scatter([0.0], [1.0])
    axes.set_title("warm-up")
    figure.canvas.draw()


def _serve(connection: socket.socket) -> None:
    """In the forked child: one submission's job in, its results out."""
    try:
        judge.send_message(connection, str(os.getpid()).encode())
        job = json.loads(judge.receive_message(connection, JOB_LIMIT))
        judge.send_message(connection, json.dumps(judge.judge_job(job)).encode())
    finally:
        connection.close()


def main(address: str) -> None:
    die_with_parent()  # a grader killed outright takes its checkers with it
    warm_up()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the system
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(16)
    while True:
        connection, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                _serve(connection)
            except BaseException:  # a child must never return into the server's loop
                traceback.print_exc()
                os._exit(1)
            os._exit(0)
        connection.close()


if __name__ == "__main__":
    main(sys.argv[1])
