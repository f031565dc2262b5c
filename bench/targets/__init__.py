"""The same endpoints written for each benchmarked framework (one URLconf per target).

Paths (every target serves the ones its framework can express):

- ``/sync-hooks/``   trivial GET behind a sync authenticator, permission and throttle
- ``/async-hooks/``  the same hooks written async (DRF sync: its sync hooks)
- ``/bare/``         trivial GET, no authentication, ``AllowAny``, no throttle
- ``/products/``     20-per-page list of 1,000 products (``?page=N``), create (POST)
- ``/products/<pk>/`` retrieve, update (PATCH), delete
- ``/products-latest/`` the list with each product's latest review
- ``/sleep/``        awaits 50 ms of I/O (``time.sleep`` on DRF sync)
"""
