"""Planning over the port: the port as a game, built above the twin and targeting."""
