"""The demo agency loaded on the first `make run`."""
