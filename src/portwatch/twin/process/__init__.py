"""The port as a process: durations, traffic, the compiled kernel, per-day metrics and
the interdiction model."""
