"""Dreamwave's server: the supervisor, the gateways (telnet, connections) and the engine
(sessions, dispatch, scheduling, persistence), and the Link between them."""
