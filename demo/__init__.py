"""Demo data generators (enterprises, officers, plans): seeded, deterministic, never production."""
