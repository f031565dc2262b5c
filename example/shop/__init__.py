"""The demo shop: products and reviews served by restflow's async views."""
