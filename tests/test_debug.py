"""The debug hooks the reliability tests build their situations with
(engine/run/debug.py): a pause held after N chunks until released."""
import threading

import pytest

from coordsweep.engine import config
from coordsweep.engine.errors import UsageError
from coordsweep.engine.run import debug


def test_pauses_after_the_first_n_wait_for_the_go_file(tmp_path, monkeypatch):
    marker = tmp_path / "paused"
    monkeypatch.setattr(config, "_current", config.from_environ({
        "COORDSWEEP_DEBUG_PAUSE": f"write:0:{marker}", "COORDSWEEP_DEBUG_HOLD_AFTER": "2"}))
    debug.pause("template")  # another point: nothing
    assert not marker.exists()
    debug.pause("write")
    debug.pause("write")  # the first two only sleep (0 s)
    held = threading.Thread(target=debug.pause, args=("write",), daemon=True)
    held.start()
    held.join(timeout=1.0)
    assert held.is_alive() and len(marker.read_text().split()) == 3
    (tmp_path / "paused.go").touch()
    held.join(timeout=60)
    assert not held.is_alive()
    debug.pause("write")  # released: the later ones go on at once


@pytest.mark.parametrize("bad", ["-1", "x", "1.5"])
def test_a_bad_hold_count_is_refused(bad):
    with pytest.raises(UsageError, match="COORDSWEEP_DEBUG_HOLD_AFTER"):
        config.from_environ({"COORDSWEEP_DEBUG_HOLD_AFTER": bad})
