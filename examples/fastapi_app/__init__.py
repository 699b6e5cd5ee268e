"""A FastAPI app that writes an order and its job in one transaction."""
