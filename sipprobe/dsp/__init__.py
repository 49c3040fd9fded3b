"""Signal processing shared by the probe's analysis and the responder: G.711 decoding and the
in-band DTMF detector (numpy only; docs/architecture.md, "Layers")."""
