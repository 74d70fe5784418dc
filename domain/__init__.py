"""Pure model and rules of Safewatch: no I/O lives here."""
