"""The kit's small shared core: taxonomy, sentence splitting, JSON IO, paths and version.

Every other package may import it; it imports none of them.
"""
