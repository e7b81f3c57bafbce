"""Handheld presumptive identification of unknown substances from Raman spectra."""
