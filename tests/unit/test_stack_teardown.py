"""SipStack's teardown: a player is dropped only once the conference bridge has let go of it
(docs/architecture.md, "pjsua2"). A real pjsua2 endpoint on loopback, no peer."""

from __future__ import annotations

import time
from typing import Any

import pjsua2 as pj
import pytest

from sipprobe.signalling.call import REFERENCE_AUDIO
from sipprobe.signalling.stack import SipStack, StackSettings
from sipprobe.signalling.timeline import Timeline


def test_stack_teardown_drops_a_player_after_the_bridge_let_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listeners_when_dropped: list[int] = []
    shut_down_all = SipStack._shut_down_all

    def recording(stack: SipStack) -> None:
        listeners_when_dropped.extend(
            len(owned.getPortInfo().listeners)
            for owned in stack._owned
            if isinstance(owned, pj.AudioMediaPlayer)
        )
        shut_down_all(stack)

    monkeypatch.setattr(SipStack, "_shut_down_all", recording)
    with SipStack(StackSettings(bind_host="127.0.0.1"), Timeline(time.monotonic)) as stack:
        _play_into_a_port_that_goes(stack)
    assert listeners_when_dropped == [0]


def _play_into_a_port_that_goes(stack: SipStack) -> None:
    """A looping player transmitting into a port that leaves the bridge right before
    teardown, as a call's audio does when the BYE goes out (a tone generator stands in for
    the call's stream; it feeds the null sound device, which keeps the bridge's clock on)."""
    stream: Any = pj.ToneGenerator()
    stream.createToneGenerator(8000, 1)
    stream.startTransmit(stack.endpoint.audDevManager().getPlaybackDevMedia())
    player: Any = pj.AudioMediaPlayer()
    player.createPlayer(str(REFERENCE_AUDIO), 0)
    player.startTransmit(stream)
    stack.own(player)
    stack.pump(0.1)
    # (the count only: this build's port info can carry stale slot numbers)
    assert len(player.getPortInfo().listeners) == 1
    # returning drops the stand-in stream: its removal waits for the bridge's next tick
