"""Files: JSONL records, atomic outputs, hashing. Imports only errors/config/records."""
