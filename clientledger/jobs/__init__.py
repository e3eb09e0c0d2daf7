"""The background sweeps and the processes that run them."""
