"""The demo scenario of DESIGN §7: its cast and its six steps."""
