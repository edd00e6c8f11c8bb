"""One router per group of endpoints; serving/app.py includes them."""
