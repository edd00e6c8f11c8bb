"""The HTTP layer: dependencies, error bodies, middleware, request and response models, routes."""
