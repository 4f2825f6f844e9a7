"""Stage 3, pull: Label Studio annotations -> annotated articles and a ledger of every decision."""
