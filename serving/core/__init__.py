"""What a running app is made of: settings, state, micro-batcher, metrics."""
