"""gunicorn's settings for this app, read from the working directory (`gunicorn wsgi:app`);
the command line adds the deployment's own (workers, bind, logs)."""

# The master loads the app before it starts the workers, so a setting the app cannot start
# with ends gunicorn with its one-line message and status 1 (a worker that fails to boot is
# started again and again). create_app opens no database connection, so the workers inherit
# none. The price: new code takes a restart, not a HUP.
preload_app = True
