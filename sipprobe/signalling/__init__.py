"""SIP signalling: the only package that imports pjsua2 (in stack, account, call, responder).

``timeline``, ``dialog``, ``options``, ``binding`` and ``mirror`` are pure Python and can be
imported without starting the SIP stack; SIP messages, URIs and digest live in ``sipprobe.sip``.
"""
