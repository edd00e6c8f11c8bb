"""``policytag.serving``: the HTTP server that tags documents sentence by sentence (see README.md, "Serving")."""
