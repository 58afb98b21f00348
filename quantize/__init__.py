"""Quantization recipes per deployment target (TOML), installed as edgeemo.targets."""
