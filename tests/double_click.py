"""Two posts of one form at the same moment, as a double click sends them (issue 23)."""

import threading
from contextlib import suppress

from sqlalchemy import event


def double_click(engine, clients, send, hold_before: str) -> list:
    """`send(client)` from each client at once, each held before its first statement that
    starts with `hold_before` until both reached it: by then each has done its checks, as
    PostgreSQL lets two requests do before either writes (on SQLite the second waits for the
    write lock, and the hold gives up). The (client, answer) pairs in the order they came."""
    both_checked = threading.Barrier(len(clients), timeout=2)

    def hold(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(hold_before):
            with suppress(threading.BrokenBarrierError):
                both_checked.wait()

    answers = []
    clicks = [threading.Thread(target=lambda c=c: answers.append((c, send(c)))) for c in clients]
    event.listen(engine, "before_cursor_execute", hold)
    try:
        for click in clicks:
            click.start()
        for click in clicks:
            click.join()
    finally:
        event.remove(engine, "before_cursor_execute", hold)
    return answers
