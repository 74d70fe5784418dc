"""Use cases: validate with domain/, write with storage/, record audit and live change together."""
