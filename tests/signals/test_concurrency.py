"""Two responders deciding the same signal at once: the second waits, then is refused."""

from __future__ import annotations

import threading
import time

from fastapi import FastAPI

from firestop.errors import FirestopError
from firestop.signals import service


def test_a_second_decision_waits_for_the_first_and_is_refused(app: FastAPI) -> None:
    factory = app.state.sessionmaker
    with factory() as setup:
        signal_id = service.submit_report(setup, text="the bot leaked a card number").signal.id
        setup.commit()

    first = factory()
    service.dismiss_signal(first, signal_id=signal_id, actor="ann", reason="duplicate")
    outcome: list[object] = []

    def second_responder() -> None:
        with factory() as second:
            try:
                service.mark_near_miss(second, signal_id=signal_id, actor="bob", reason="caught")
                second.commit()
                outcome.append("decided")
            except FirestopError as exc:
                outcome.append(exc.status)

    thread = threading.Thread(target=second_responder)
    thread.start()
    time.sleep(0.5)
    assert thread.is_alive(), "the second decision should wait for the first transaction"
    first.commit()
    first.close()
    thread.join(timeout=20)
    assert outcome == [409]
    with factory() as check:
        assert service.get_signal(check, signal_id).status == "dismissed"
