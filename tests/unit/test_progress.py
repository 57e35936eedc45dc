from shared.progress import Progress


def test_rate_and_time_left():
    p = Progress(started=100.0)
    p.update(30_000, 120_000)
    f = p.figures(now=110.0)
    assert f["rate_per_s"] == 3000.0 and f["eta_s"] == 30.0 and f["events_done"] == 30_000
    assert Progress(started=0.0).figures(now=1.0)["eta_s"] is None  # nothing done yet: no estimate
