"""Taxonomy, corpus, hand labels, dataset IO and the Label Studio loop: the kit's shared domain code."""
