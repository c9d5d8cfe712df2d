"""The gateway process: sockets, telnet, the browser, every protocol, per-connection limits."""
