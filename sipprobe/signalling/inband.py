"""In-band DTMF: the digits played as dual tones into the call's audio (ITU-T Q.23).

pjmedia's tone generator (``ToneGenerator.playDigits``) is connected to the call's audio on
the conference bridge. The reference audio is disconnected while the digits play and
connected again when the generator is done: mixed with speech, the tones would be judged
against it by the far end's detector (its purity and dominance guards), and the test is of
the path, not of a detector's tolerance to talk-over.

Each digit sounds for the call step's ``dtmf_duration_ms`` (160 ms, as RFC 4733 digits) and
is followed by ``GAP_MS`` of silence: 250 ms a digit, what the hold schedule allows for
(``model/hold.py``). ``VOLUME`` is the generator's amplitude setting; measured on the probe's
own stream (PCMU, in the capture) it puts the row tone at -8.5 to -8.7 dBm0 and the column
tone at -7.5 to -8.1 dBm0, within the -7 to -9 dBm0 of usual telephone sets (pjmedia sets one
level for both tones; the column tone comes out up to 1 dB louder).
"""

from __future__ import annotations

from typing import Any

import pjsua2 as pj

GAP_MS = 90  # silence after each digit
VOLUME = 16000  # pjmedia's ToneDigit.volume: about -8.5 dBm0 a tone after G.711 encoding


class InbandDigits:
    """The tones of one call: started once, polled until done, then the speech goes on."""

    def __init__(self, audio: Any, player: Any | None) -> None:
        self._audio = audio
        self._player = player
        self._generator: Any = None
        self.done = False

    def start(self, digits: str, duration_ms: int) -> Any:
        """Play ``digits``; returns the generator (the stack must own it until teardown)."""
        generator = pj.ToneGenerator()
        generator.createToneGenerator(8000, 1)
        sequence = pj.ToneDigitVector()
        for symbol in digits:
            digit = pj.ToneDigit()
            digit.digit = symbol
            digit.on_msec = duration_ms
            digit.off_msec = GAP_MS
            digit.volume = VOLUME
            sequence.append(digit)
        if self._player is not None:
            self._player.stopTransmit(self._audio)
        generator.playDigits(sequence, False)
        generator.startTransmit(self._audio)
        self._generator = generator
        return generator

    def poll(self) -> None:
        """Once the generator is done: disconnect it and give the call its speech back."""
        if self.done or self._generator is None or self._generator.isBusy():
            return
        self.done = True
        try:
            self._generator.stopTransmit(self._audio)
            if self._player is not None:
                self._player.startTransmit(self._audio)
        except pj.Error:
            pass  # the call's media went away meanwhile (the far end hung up)
