"""Event scripts: world events written as YAML data (world/events/*.yaml) and run by a small,
pure interpreter. `schema` is the vocabulary, `loader` reads and checks files, `runtime`
advances running events, `effects` is what each step does to the world, and `persist` keeps
what must survive a restart. The guide for builders is docs/events.md."""
