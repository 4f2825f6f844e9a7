"""Files: JSON Lines, atomic outputs, hashing, markdown escaping. Imports only the base modules."""
