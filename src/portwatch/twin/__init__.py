"""The digital twin of a land port of entry."""
