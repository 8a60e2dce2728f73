"""Fast tests of pure functions: no model, no store. `make test-unit` runs them."""
