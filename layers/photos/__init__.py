"""Photos: the file store, what a photo is and says of itself, and its rows."""
