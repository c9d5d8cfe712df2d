"""The dreamscape: rooms, exits, items and dreamers as plain Python objects."""
