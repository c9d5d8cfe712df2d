"""The engine process: sessions, the output pump and feeds, login, dispatch, scheduler,
events, the NPC runtime."""
