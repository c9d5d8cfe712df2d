"""The supervisor process: starts the engine and the gateways, restarts them, hands reloads over."""
