"""Whom to inspect: inspection policies as data, risk scores, game solvers."""
