"""``policytag.training``: model kinds, training, evaluation, model folders and inference numerics.

Others use it through :func:`policytag.training.predictor.load_predictor` (see README.md, "Training").
"""
