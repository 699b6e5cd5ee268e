"""The soak (RELIABILITY.md S34): a million jobs through one database, its table health reported."""
