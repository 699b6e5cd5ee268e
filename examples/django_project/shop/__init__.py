"""The example's only app: orders, and the job that ships them."""
