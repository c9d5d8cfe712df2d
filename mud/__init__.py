"""Dreamwave engine: telnet transport, sessions, dispatch, scheduling and persistence."""
