"""SIP signalling: the only package that imports pjsua2 (in stack, account, call, responder).

``message``, ``timeline``, ``dialog``, ``digest``, ``uri`` and ``options`` are pure Python and
can be imported without starting the SIP stack.
"""
