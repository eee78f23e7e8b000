"""gunicorn's settings for this app, read from the working directory (`gunicorn wsgi:app`);
the command line adds the deployment's own (workers, bind, logs)."""

from gunicorn.http import wsgi

# The master loads the app before it starts the workers, so a setting the app cannot start
# with ends gunicorn with its one-line message and status 1 (a worker that fails to boot is
# started again and again). create_app opens no database connection, so the workers inherit
# none. The price: new code takes a restart, not a HUP.
preload_app = True

# No Server banner: gunicorn has no setting to leave the header out, so it goes out empty
# (tests/test_web.py starts gunicorn and fails if this stops working).
wsgi.SERVER = ""
